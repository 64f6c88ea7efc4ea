using OptimizationRuns.Grains.Data;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Grains.Candidates;

/// <summary>Shapes the store's candidate rows into the answer: per predictor, per kind, by index, with the statistics.</summary>
public static class CandidateTable
{
    /// <summary>The run's candidates from <paramref name="rows"/> (one per recorded or chosen candidate, any order).</summary>
    public static RunCandidates From(Guid runId, IEnumerable<CandidateRow> rows)
    {
        var predictors = rows
            .GroupBy(r => r.Predictor, StringComparer.Ordinal)
            .OrderBy(g => g.Key, PredictorOrder.Instance)
            .Select(g => new PredictorCandidates(
                g.Key,
                Set(g.Where(r => r.Kind == CandidateKind.Instruction.ToName())),
                Set(g.Where(r => r.Kind == CandidateKind.Demos.ToName()))))
            .ToList();
        return new RunCandidates(runId, predictors);
    }

    private static CandidateSet Set(IEnumerable<CandidateRow> rows)
    {
        var ordered = rows.OrderBy(r => r.Idx).ToList();
        var groups = ordered.Select(Minibatch).ToList();
        return new CandidateSet(
            CandidateStatistics.EtaSquared(groups),
            (int)groups.Sum(g => g.N),
            ordered.Select((row, i) => View(row, groups[i])).ToList());
    }

    private static ScoreGroup Minibatch(CandidateRow row) =>
        new(row.MinibatchN, row.MinibatchMean ?? 0, row.MinibatchVariance ?? 0);

    /// <summary>One candidate from its row, with its statistics (an export's row).</summary>
    public static CandidateView View(CandidateRow row) => View(row, Minibatch(row));

    private static CandidateView View(CandidateRow row, ScoreGroup minibatch)
    {
        var interval = CandidateStatistics.ConfidenceInterval95(minibatch);
        return new CandidateView
        {
            Index = row.Idx,
            Recorded = row.Recorded,
            Text = row.Text,
            DemosJson = row.DemosJson,
            CreatedAt = row.CreatedAt,
            TimesChosen = row.TimesChosen,
            Minibatch = new MinibatchStatistics(row.MinibatchN, row.MinibatchMean, interval?.Low, interval?.High),
            Full = new FullStatistics(row.FullN, row.FullMean),
            BestScore = row.BestScore,
            BestMinibatchScore = row.BestMinibatchScore,
        };
    }

    // DSPy numbers its predictors: "2" before "10". Names (a predictor's attribute path) follow, in ordinal order.
    private sealed class PredictorOrder : IComparer<string>
    {
        public static readonly PredictorOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var xNumber = long.TryParse(x, System.Globalization.NumberStyles.None, null, out var a);
            var yNumber = long.TryParse(y, System.Globalization.NumberStyles.None, null, out var b);
            return (xNumber, yNumber) switch
            {
                (true, true) when a != b => a.CompareTo(b),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(x, y),
            };
        }
    }
}
