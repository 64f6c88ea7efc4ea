namespace OptimizationRuns.Grains.Data;

/// <summary>A row of <c>optimization_runs</c> as Dapper reads it (snake_case columns, JSON as text).</summary>
public sealed class RunRow
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public string RunName { get; set; } = "";
    public string? Description { get; set; }
    public string OptimizerType { get; set; } = "";
    public string Status { get; set; } = "";
    public string? CreatedBy { get; set; }
    public string Config { get; set; } = "{}";
    public string Metadata { get; set; } = "{}";
    public string[] Tags { get; set; } = [];
    public string? ProgramName { get; set; }
    public string? DatasetName { get; set; }
    public string? MetricName { get; set; }
    public string? TaskModel { get; set; }
    public string? PromptModel { get; set; }
    public decimal? BaselineScore { get; set; }
    public decimal? BestScore { get; set; }
    public decimal? BestMinibatchScore { get; set; }
    public decimal? FinalScore { get; set; }
    public decimal? Improvement { get; set; }
    public decimal? ImprovementPct { get; set; }
    public int? TotalIterations { get; set; }
    public int CompletedIterations { get; set; }
    public int? CurrentIteration { get; set; }
    public int? BestIteration { get; set; }
    public long SamplesEvaluated { get; set; }
    public long SamplesSuccessful { get; set; }
    public long SamplesFailed { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public long TotalTokens { get; set; }
    public decimal CostUsd { get; set; }
    public double? AvgLatencyMs { get; set; }
    public string? OptimizedProgram { get; set; }
    public string? ErrorMessage { get; set; }
    public string? ErrorDetails { get; set; }
    public DateTime? StartTime { get; set; }
    public DateTime? EndTime { get; set; }
    public long? DurationMs { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>What the database derived for a run in a write transaction (triggers and generated columns).</summary>
public sealed class RunDerivedRow
{
    public string Status { get; set; } = "";
    public decimal? BaselineScore { get; set; }
    public decimal? BestScore { get; set; }
    public decimal? BestMinibatchScore { get; set; }
    public decimal? Improvement { get; set; }
    public decimal? ImprovementPct { get; set; }
    public int CompletedIterations { get; set; }
    public int? CurrentIteration { get; set; }
    public int? BestIteration { get; set; }
    public DateTime? StartTime { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A committed iteration, as the run grain keeps it in memory to judge retries.</summary>
public sealed class IterationRow
{
    public int Iteration { get; set; }
    public string Kind { get; set; } = "";
    public decimal? Score { get; set; }
}

/// <summary>A committed sample's key and the numbers the run's statistics are made of.</summary>
public sealed class SampleStatRow
{
    public int Iteration { get; set; }
    public int SampleIndex { get; set; }
    public bool Success { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public decimal CostUsd { get; set; }
    public double? LatencyMs { get; set; }
}
