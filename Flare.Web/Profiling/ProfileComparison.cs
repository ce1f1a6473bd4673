using Flare.Data.Profiling;

namespace Flare.Web.Profiling;

/// <summary>Means of one grid cell of a run (successful requests; errors counted apart).</summary>
/// <param name="InputTokens">The cell's prompt length (asked for, in a sweep; measured, in an import).</param>
/// <param name="OutputTokens">The cell's output length.</param>
/// <param name="Load">Concurrency, or for a rate sweep the arrival rate per second.</param>
/// <param name="IsRate">True when <paramref name="Load"/> is a rate.</param>
public sealed record CellStats(int InputTokens, int OutputTokens, double Load, bool IsRate, int Samples, int Errors, double? TtftMs, double? TpotMs, double? E2eMs)
{
    public string LoadText => IsRate ? $"{Load:0.##}/s" : $"c={Load:0.##}";
}

/// <summary>A cell measured by both runs (or only one), and the relative change from A to B.</summary>
public sealed record CellComparison(CellStats? A, CellStats? B)
{
    public CellStats Key => A ?? B!;
    public double? TtftChange => Change(A?.TtftMs, B?.TtftMs);
    public double? TpotChange => Change(A?.TpotMs, B?.TpotMs);
    public double? E2eChange => Change(A?.E2eMs, B?.E2eMs);

    private static double? Change(double? a, double? b) => a is > 0 && b is { } y ? (y - a.Value) / a.Value : null;
}

/// <summary>Two runs of a deployment side by side, cell by cell.</summary>
/// <param name="MeanE2eChange">Mean relative e2e change over the cells both measured; null when none.</param>
public sealed record RunComparison(ProfileRunView A, ProfileRunView B, IReadOnlyList<CellComparison> Cells, double? MeanTtftChange, double? MeanTpotChange, double? MeanE2eChange);

/// <summary>Per-cell statistics of runs and their comparison.</summary>
public static class ProfileComparison
{
    /// <summary>Per-cell means of a run's samples, by load, input and output length.</summary>
    public static IReadOnlyList<CellStats> Cells(ProfileRunView run, IReadOnlyList<ProfileSampleView> samples)
    {
        ArgumentNullException.ThrowIfNull(run);
        var grid = run.Source == ProfileRunSource.Sweep ? run.Settings.Cells() : [];
        return samples
            .GroupBy(s =>
            {
                if (s.CellIndex < grid.Count && run.Source == ProfileRunSource.Sweep)
                {
                    var c = grid[s.CellIndex];
                    return (c.InputTokens, c.OutputTokens, Load: c.Concurrency ?? c.RequestRate ?? 0, IsRate: c.Concurrency is null);
                }

                return (s.Sample.InputTokens, s.Sample.OutputTokens, Load: s.Sample.RequestRatePerSecond ?? s.Sample.Concurrency, IsRate: s.Sample.RequestRatePerSecond is not null);
            })
            .Select(g =>
            {
                var ok = g.Where(s => !s.Sample.IsError).Select(s => s.Sample).ToList();
                return new CellStats(g.Key.InputTokens, g.Key.OutputTokens, g.Key.Load, g.Key.IsRate, ok.Count, g.Count() - ok.Count,
                    Mean(ok.Select(s => s.TtftMs)), Mean(ok.Select(s => s.TpotMs)), Mean(ok.Select(s => s.E2eMs)));
            })
            .OrderBy(c => c.Load).ThenBy(c => c.InputTokens).ThenBy(c => c.OutputTokens)
            .ToList();
    }

    /// <summary>Cells of A and B matched by shape and load.</summary>
    public static RunComparison Compare(ProfileRunView a, IReadOnlyList<ProfileSampleView> aSamples, ProfileRunView b, IReadOnlyList<ProfileSampleView> bSamples)
    {
        var left = Cells(a, aSamples).ToDictionary(Key);
        var right = Cells(b, bSamples).ToDictionary(Key);
        var cells = left.Keys.Union(right.Keys)
            .Select(k => new CellComparison(left.GetValueOrDefault(k), right.GetValueOrDefault(k)))
            .OrderBy(c => c.Key.Load).ThenBy(c => c.Key.InputTokens).ThenBy(c => c.Key.OutputTokens)
            .ToList();
        return new RunComparison(a, b, cells, Mean(cells.Select(c => c.TtftChange)), Mean(cells.Select(c => c.TpotChange)), Mean(cells.Select(c => c.E2eChange)));
    }

    private static (int, int, double, bool) Key(CellStats c) => (c.InputTokens, c.OutputTokens, c.Load, c.IsRate);

    private static double? Mean(IEnumerable<double?> values)
    {
        var list = values.OfType<double>().ToList();
        return list.Count == 0 ? null : list.Average();
    }
}
