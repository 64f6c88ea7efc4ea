using OptimizationRuns.Silo;

namespace OptimizationRuns.Tests.Cluster;

/// <summary>A grain that exercises the providers directly: persistent state and a reminder.</summary>
public interface IProbeGrain : IGrainWithStringKey
{
    Task SetAsync(string value);

    Task<string?> GetAsync();

    Task StartReminderAsync();

    Task StopReminderAsync();

    Task<int> GetReminderTicksAsync();
}

[GenerateSerializer, Alias("tests.ProbeState")]
public sealed class ProbeState
{
    [Id(0)] public string? Value { get; set; }

    [Id(1)] public int ReminderTicks { get; set; }
}

public sealed class ProbeGrain([PersistentState("probe", SiloHosting.RunStorage)] IPersistentState<ProbeState> state)
    : Grain, IProbeGrain, IRemindable
{
    private const string ReminderName = "probe";

    public async Task SetAsync(string value)
    {
        state.State.Value = value;
        await state.WriteStateAsync();
    }

    public Task<string?> GetAsync() => Task.FromResult(state.State.Value);

    public async Task StartReminderAsync() =>
        await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

    public async Task StopReminderAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<int> GetReminderTicksAsync() => Task.FromResult(state.State.ReminderTicks);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.ReminderTicks++;
        await state.WriteStateAsync();
    }
}
