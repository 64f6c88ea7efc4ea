using Dapper;
using OptimizationRuns.Grains.Queries;

namespace OptimizationRuns.Grains.Data;

// The pages of a run's export: keyset along each table's primary key, one short transaction per page, so an export
// holds no connection (and no snapshot) while its reader is slow.
public sealed partial class RunAnalysisQueries
{
    /// <summary>A page of the run's iterations after <c>@AfterIteration</c>, along the primary key.</summary>
    public const string IterationPageSql = $"""
        SELECT {IterationQueries.Columns} FROM optimization_iterations
        WHERE run_id = @RunId AND iteration > @AfterIteration
        ORDER BY iteration
        LIMIT @Take
        """;

    /// <summary>
    /// Up to <paramref name="take"/> samples of the run after <paramref name="after"/> (from the start when null), in
    /// the order and with the columns of the samples pages; null when the run is not visible (checked on the first
    /// page only: a later page of a run deleted meanwhile is empty, which ends the export).
    /// </summary>
    public async Task<List<SampleView>?> SamplePageAsync(
        Guid projectId, Guid runId, SamplePosition? after, int take, CancellationToken cancellationToken)
    {
        var (sql, parameters) = SampleQueries.PageStatement(new SampleQuery { RunId = runId, After = after }, take);
        return await PageAsync<SampleView>(projectId, after is null, sql, parameters, cancellationToken);
    }

    /// <summary>Up to <paramref name="take"/> iterations of the run after <paramref name="afterIteration"/> (-1: from the start); null when the run is not visible.</summary>
    public async Task<List<IterationView>?> IterationPageAsync(
        Guid projectId, Guid runId, int afterIteration, int take, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters(new { RunId = runId, AfterIteration = afterIteration, Take = take });
        return await PageAsync<IterationView>(projectId, afterIteration < 0, IterationPageSql, parameters, cancellationToken);
    }

    private async Task<List<T>?> PageAsync<T>(
        Guid projectId, bool first, string sql, DynamicParameters parameters, CancellationToken cancellationToken)
    {
        await using var scope = await ProjectTransaction.BeginAsync(dataSource, projectId, cancellationToken);
        List<T>? rows = null;
        if (first)
        {
            await using var results = await scope.Connection.QueryMultipleAsync(scope.Command(RunExistsSql + sql, parameters, cancellationToken));
            if (await results.ReadSingleAsync<bool>())
            {
                rows = (await results.ReadAsync<T>()).AsList();
            }
        }
        else
        {
            rows = (await scope.Connection.QueryAsync<T>(scope.Command(sql, parameters, cancellationToken))).AsList();
        }

        await scope.CommitAsync(cancellationToken);
        return rows;
    }
}
