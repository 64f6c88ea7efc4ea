using OptimizationRuns.Grains.Telemetry;

namespace OptimizationRuns.Grains.Runs;

// The run's place in the silo's metrics: which status this activation is counted under.
public sealed partial class RunGrain
{
    private RunStatus? _countedStatus;

    // Called wherever the run row changes, and on deactivation with gone: the gauge moves from the status counted
    // before to the one now, so a silo's series always sums to the runs its grains hold.
    private void CountStatus(bool gone = false)
    {
        var status = gone ? null : _run?.Status;
        if (status == _countedStatus)
        {
            return;
        }

        if (_countedStatus is { } before)
        {
            RunTelemetry.RunsByStatus.Add(-1, new KeyValuePair<string, object?>(RunTelemetry.StatusTag, before.ToName()));
        }

        if (status is { } now)
        {
            RunTelemetry.RunsByStatus.Add(1, new KeyValuePair<string, object?>(RunTelemetry.StatusTag, now.ToName()));
        }

        _countedStatus = status;
    }
}
