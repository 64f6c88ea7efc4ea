using System.Data;
using Dapper;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Data;

/// <summary>
/// How rows map onto the grain contracts, registered once for the process: snake_case columns onto PascalCase
/// members, the domain's enums as their lower-case names, <c>timestamptz</c> as UTC <see cref="DateTimeOffset"/>.
/// Stored JSON is selected as text (<c>config AS config_json</c>) and travels as it is.
/// </summary>
public static class RowMapping
{
    private static int _registered;

    /// <summary>Every column of a run as <see cref="RunSnapshot"/> has it; one list for every statement that reads a run.</summary>
    public const string RunColumns = """
        id, project_id, run_name, description, optimizer_type, status, phase, message, created_by,
        config AS config_json, metadata AS metadata_json, tags, program_name, dataset_name, metric_name, task_model,
        prompt_model, baseline_score, best_score, best_minibatch_score, final_score, improvement, improvement_pct,
        total_iterations, completed_iterations, current_iteration, best_iteration, samples_evaluated, samples_successful,
        samples_failed, prompt_tokens, completion_tokens, total_tokens, cost_usd, avg_latency_ms, p50_latency_ms,
        p95_latency_ms, optimized_program AS optimized_program_json, error_message, error_details AS error_details_json,
        start_time, end_time, duration_ms, last_heartbeat_at, created_at, updated_at
        """;

    /// <summary>Registers the mappings (idempotent).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }

        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.Settings.PreferTypeHandlersForEnums = true;
        SqlMapper.AddTypeHandler(new DomainNameHandler<RunStatus>());
        SqlMapper.AddTypeHandler(new DomainNameHandler<OptimizerType>());
        SqlMapper.AddTypeHandler(new DomainNameHandler<IterationKind>());
        SqlMapper.AddTypeHandler(new UtcTimeHandler());
        SqlMapper.AddTypeHandler(new TextArrayHandler());
    }

    private sealed class DomainNameHandler<T> : SqlMapper.TypeHandler<T> where T : struct, Enum
    {
        public override T Parse(object value) => DomainNames.ParseName<T>((string)value);

        public override void SetValue(IDbDataParameter parameter, T value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = value.ToName();
        }
    }

    // text[] arrives as string[]; the contracts expose it read-only.
    private sealed class TextArrayHandler : SqlMapper.TypeHandler<IReadOnlyList<string>>
    {
        public override IReadOnlyList<string> Parse(object value) => (string[])value;

        public override void SetValue(IDbDataParameter parameter, IReadOnlyList<string>? value) => parameter.Value = value?.ToArray();
    }

    // Npgsql reads timestamptz as a UTC DateTime; the contracts carry DateTimeOffset.
    private sealed class UtcTimeHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            DateTimeOffset time => time,
            _ => throw new DataException($"Cannot read {value.GetType().Name} as a time."),
        };

        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = value.ToUniversalTime();
    }
}
