using Xunit;

namespace OptimizationRuns.Tests.Faults;

/// <summary>
/// The tests that start silo, gateway and database processes and time their answers to a fault. They run one at a
/// time and alone: on a 2-core machine, several of them at once (each with its own processes) would measure the
/// machine's load, not the fault.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessFaults
{
    public const string Name = "Process faults";
}
