using System.Diagnostics;

namespace OptimizationRuns.Grains.Maintenance;

/// <summary>
/// Keeps a purge pass at <see cref="RetentionOptions.SamplesPerSecond"/> on average: work is counted in samples as it
/// is done (the export page by page, then the delete), and whenever the pass is ahead of its pace it waits until it is
/// not. Waiting in small steps spreads the purge's load instead of sending it in bursts between pauses.
/// </summary>
public sealed class RetentionPace(int samplesPerSecond)
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private double _samples;

    /// <summary>Counts <paramref name="samples"/> as done and waits while the pass is ahead of its pace.</summary>
    public async Task SpendAsync(double samples, CancellationToken cancellationToken)
    {
        if (samplesPerSecond <= 0 || samples <= 0)
        {
            return;
        }

        _samples += samples;
        var ahead = TimeSpan.FromSeconds(_samples / samplesPerSecond) - _elapsed.Elapsed;
        if (ahead > TimeSpan.Zero)
        {
            await Task.Delay(ahead, cancellationToken);
        }
    }
}
