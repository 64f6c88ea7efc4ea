namespace OptimizationRuns.Grains.Runs;

/// <summary>A heartbeat's live progress (SSE event <c>progress</c>).</summary>
public sealed record ProgressEvent(string? Phase, int? CurrentIteration, int? TotalIterations, string? Message);

/// <summary>An iteration was recorded or completed (SSE event <c>iteration</c>).</summary>
public sealed record IterationEvent(int Iteration, IterationKind Kind, decimal? Score);

/// <summary>The run's best score (baseline and full evaluations only) changed (SSE event <c>best_score</c>).</summary>
public sealed record BestScoreEvent(decimal? BestScore, int? BestIteration);

/// <summary>The run's status changed, and why (SSE event <c>status</c>).</summary>
public sealed record StatusEvent(RunStatus Status, RunStatus Previous, string Reason);
