using Dapper;
using Npgsql;
using OptimizationRuns.Tests.Fixtures;
using Xunit;

namespace OptimizationRuns.Tests.Schema;

/// <summary>Every CHECK and foreign key of migration 0001 turns a violating row away, by name.</summary>
public sealed class ConstraintTests
{
    private const string Check = "23514";
    private const string ForeignKey = "23503";
    private const string Unique = "23505";

    // Each statement runs against a fresh project with one run (@run) that has iteration 0 and
    // its sample 0; @otherProject is a second, unrelated project.
    public static TheoryData<string, string, string, string> Violations => new()
    {
        { "run final score above 1", "UPDATE optimization_runs SET final_score = 1.5 WHERE id = @run", Check, "optimization_runs_final_score_check" },
        { "run baseline score below 0", "UPDATE optimization_runs SET baseline_score = -0.01 WHERE id = @run", Check, "optimization_runs_baseline_score_check" },
        { "run best score above 1", "UPDATE optimization_runs SET best_score = 1.0001 WHERE id = @run", Check, "optimization_runs_best_score_check" },
        { "run best minibatch score above 1", "UPDATE optimization_runs SET best_minibatch_score = 2 WHERE id = @run", Check, "optimization_runs_best_minibatch_score_check" },
        { "run ends before it starts", "UPDATE optimization_runs SET start_time = now(), end_time = now() - interval '1 second' WHERE id = @run", Check, "optimization_runs_end_after_start" },
        { "run evaluated fewer samples than succeeded and failed", "UPDATE optimization_runs SET samples_evaluated = 10, samples_successful = 8, samples_failed = 3 WHERE id = @run", Check, "optimization_runs_sample_counts" },
        { "run status unknown", "UPDATE optimization_runs SET status = 'done' WHERE id = @run", Check, "optimization_runs_status_check" },
        { "run optimizer type unknown", "INSERT INTO optimization_runs (project_id, run_name, optimizer_type) VALUES (@project, 'r', 'mipro')", Check, "optimization_runs_optimizer_type_check" },
        { "run completed iterations negative", "UPDATE optimization_runs SET completed_iterations = -1 WHERE id = @run", Check, "optimization_runs_completed_iterations_check" },
        { "run total iterations negative", "UPDATE optimization_runs SET total_iterations = -1 WHERE id = @run", Check, "optimization_runs_total_iterations_check" },
        { "run failed samples negative", "UPDATE optimization_runs SET samples_failed = -1 WHERE id = @run", Check, "optimization_runs_samples_failed_check" },
        { "run prompt tokens negative", "UPDATE optimization_runs SET prompt_tokens = -1 WHERE id = @run", Check, "optimization_runs_prompt_tokens_check" },
        { "run cost negative", "UPDATE optimization_runs SET cost_usd = -0.01 WHERE id = @run", Check, "optimization_runs_cost_usd_check" },
        { "run config not an object", "UPDATE optimization_runs SET config = '[]' WHERE id = @run", Check, "optimization_runs_config_check" },
        { "run of a missing project", "INSERT INTO optimization_runs (project_id, run_name, optimizer_type) VALUES (gen_random_uuid(), 'r', 'miprov2')", ForeignKey, "optimization_runs_project_id_fkey" },

        { "iteration score above 1", "INSERT INTO optimization_iterations (run_id, project_id, iteration, score) VALUES (@run, @project, 1, 1.2)", Check, "optimization_iterations_score_check" },
        { "iteration kind unknown", "INSERT INTO optimization_iterations (run_id, project_id, iteration, kind) VALUES (@run, @project, 1, 'trial')", Check, "optimization_iterations_kind_check" },
        { "iteration number negative", "INSERT INTO optimization_iterations (run_id, project_id, iteration) VALUES (@run, @project, -1)", Check, "optimization_iterations_iteration_check" },
        { "iteration completes before it starts", "UPDATE optimization_iterations SET started_at = now(), completed_at = now() - interval '1 ms' WHERE run_id = @run", Check, "optimization_iterations_end_after_start" },
        { "iteration evaluated fewer samples than succeeded and failed", "UPDATE optimization_iterations SET samples_evaluated = 35, samples_successful = 35, samples_failed = 1 WHERE run_id = @run", Check, "optimization_iterations_sample_counts" },
        { "iteration completion tokens negative", "UPDATE optimization_iterations SET completion_tokens = -5 WHERE run_id = @run", Check, "optimization_iterations_completion_tokens_check" },
        { "iteration trace id upper case", "UPDATE optimization_iterations SET trace_id = '4BF92F3577B34DA6A3CE929D0E0E4736' WHERE run_id = @run", Check, "optimization_iterations_trace_id_check" },
        { "iteration of a missing run", "INSERT INTO optimization_iterations (run_id, project_id, iteration) VALUES (gen_random_uuid(), @project, 0)", ForeignKey, "optimization_iterations_run_fk" },
        { "iteration in another project than its run", "INSERT INTO optimization_iterations (run_id, project_id, iteration) VALUES (@run, @otherProject, 1)", ForeignKey, "optimization_iterations_run_fk" },
        { "iteration recorded twice", "INSERT INTO optimization_iterations (run_id, project_id, iteration) VALUES (@run, @project, 0)", Unique, "optimization_iterations_pk" },

        { "sample score below 0", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, score) VALUES (@run, @project, 0, 1, -0.5)", Check, "optimization_samples_score_check" },
        { "sample trace id too short", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, trace_id) VALUES (@run, @project, 0, 1, '4bf92f3577b34da6')", Check, "optimization_samples_trace_id_check" },
        { "sample trace id not hex", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, trace_id) VALUES (@run, @project, 0, 1, 'not-a-trace-id-not-a-trace-id-xx')", Check, "optimization_samples_trace_id_check" },
        { "sample span id malformed", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, span_id) VALUES (@run, @project, 0, 1, '00f067aa0ba902b7ff')", Check, "optimization_samples_span_id_check" },
        { "sample latency negative", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, latency_ms) VALUES (@run, @project, 0, 1, -1)", Check, "optimization_samples_latency_ms_check" },
        { "sample prompt tokens negative", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index, prompt_tokens) VALUES (@run, @project, 0, 1, -1)", Check, "optimization_samples_prompt_tokens_check" },
        { "sample of a missing iteration", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index) VALUES (@run, @project, 7, 0)", ForeignKey, "optimization_samples_iteration_fk" },
        { "sample in another project than its iteration", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index) VALUES (@run, @otherProject, 0, 1)", ForeignKey, "optimization_samples_iteration_fk" },
        { "sample recorded twice", "INSERT INTO optimization_samples (run_id, project_id, iteration, sample_index) VALUES (@run, @project, 0, 0)", Unique, "optimization_samples_pk" },

        { "api key hash not 32 bytes", "INSERT INTO project_api_keys (project_id, prefix, key_hash) VALUES (@project, 'ork_abcd', '\\x0102')", Check, "project_api_keys_key_hash_check" },
        { "api key of a missing project", "INSERT INTO project_api_keys (project_id, prefix, key_hash) VALUES (gen_random_uuid(), 'ork_abcd', sha256('k'))", ForeignKey, "project_api_keys_project_id_fkey" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task ViolatingRowIsRejectedByItsConstraint(string violation, string sql, string sqlState, string constraint)
    {
        var project = await TestDatabase.CreateProjectAsync();
        var otherProject = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await Owner.InsertIterationAsync(run, 0);
        await Owner.InsertSampleAsync(run, 0, 0);

        await using var connection = await TestDatabase.OpenOwnerAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql, new { project, otherProject, run }));

        // A partition's key is reported by its own name (optimization_samples_p06_pkey): named here by the parent's.
        var reported = await PartitionNames.RootConstraintAsync(connection, error.TableName, error.ConstraintName);
        Assert.True(error.SqlState == sqlState && reported == constraint,
            $"{violation}: expected {sqlState} {constraint}, got {error.SqlState} {reported}: {error.MessageText}");
    }

    [Fact]
    public async Task ADuplicateSampleIsRejectedNamingTheTablesKeyNotItsPartitions()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);
        await Owner.InsertIterationAsync(run, 0);
        await Owner.InsertSampleAsync(run, 0, 0);

        var error = await Assert.ThrowsAsync<PostgresException>(() => Owner.InsertSampleAsync(run, 0, 0));

        Assert.Matches("^optimization_samples_p[0-9]+_pkey$", error.ConstraintName);
        var rejected = Assert.IsType<OptimizationRuns.Grains.Errors.WriteRejectedException>(OptimizationRuns.Grains.Data.DatabaseFailures.ToGrainError(error));
        Assert.Equal("optimization_samples_pk", rejected.Constraint);
        Assert.DoesNotContain(error.ConstraintName!, rejected.Message);
    }

    [Fact]
    public async Task ValidRowsAtTheBoundariesAreAccepted()
    {
        var project = await TestDatabase.CreateProjectAsync();
        var run = await TestDatabase.CreateRunAsync(project);

        await Owner.ExecuteAsync(
            """
            UPDATE optimization_runs
            SET baseline_score = 0, best_score = 1, final_score = 1, samples_evaluated = 10, samples_successful = 7,
                samples_failed = 3, start_time = '2026-01-01T00:00:00Z', end_time = '2026-01-01T00:00:00Z'
            WHERE id = @run
            """,
            new { run });
        await Owner.ExecuteAsync(
            """
            INSERT INTO optimization_iterations (run_id, project_id, iteration, kind, score, trace_id, span_id)
            VALUES (@run, @project, 0, 'baseline', 0, '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7')
            """,
            new { run, project });
        await Owner.InsertSampleAsync(run, 0, 0);

        Assert.Equal(1m, (await Owner.ReadRunAsync(run)).FinalScore);
    }
}
