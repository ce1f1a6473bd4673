using Flare.Routing.Optimization;

namespace Flare.Web.Explorer;

/// <summary>How far the explorer's sliders reach, from the points of a solve: the SLO from half the fastest point's latency
/// to half again the slowest's, the budget to a quarter above the dearest single deployment, the arrival rate to a
/// quarter above the fleet's capacity.</summary>
public sealed record ExplorerRanges(
    double RateMax,
    double RateStep,
    double SloMin,
    double SloMax,
    double SloStep,
    double BudgetMax,
    double BudgetStep)
{
    /// <summary>Ranges for the points of <paramref name="result"/>.</summary>
    public static ExplorerRanges From(ExplorerResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var statistic = result.Settings.Statistic;
        var usable = result.Points.Where(p => !p.IsOverloaded).ToList();
        var latencies = usable.Select(p => p.Latency(statistic)).Where(double.IsFinite).ToList();
        var (fastest, slowest) = latencies.Count == 0 ? (1.0, 1000.0) : (latencies.Min(), latencies.Max());
        var sloStep = Nice((slowest * 1.5 - fastest * 0.5) / 200);
        var dearest = result.Singles.Select(p => p.CostPer1kUsd).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        var budgetStep = Nice(Math.Max(dearest * 1.25, 1e-6) / 200);
        var capacity = double.IsFinite(result.FleetCapacityPerSecond) ? result.FleetCapacityPerSecond : 100;
        var rateStep = Nice(Math.Max(capacity * 1.25, 0.1) / 200);
        return new ExplorerRanges(
            Ceiling(capacity * 1.25, rateStep), rateStep,
            Floor(fastest * 0.5, sloStep), Ceiling(slowest * 1.5, sloStep), sloStep,
            Ceiling(dearest * 1.25, budgetStep), budgetStep);
    }

    /// <summary>The largest of 1, 2 or 5 × a power of ten not above <paramref name="x"/> (a step a person reads easily).</summary>
    public static double Nice(double x)
    {
        if (!(x > 0) || !double.IsFinite(x))
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(x)));
        var mantissa = x / power;
        return (mantissa >= 5 ? 5 : mantissa >= 2 ? 2 : 1) * power;
    }

    /// <summary><paramref name="value"/> rounded to the nearest multiple of <paramref name="step"/>.</summary>
    public static double Snap(double value, double step) => Math.Round(value / step) * step;

    private static double Ceiling(double value, double step) => Math.Max(step, Math.Ceiling(value / step) * step);

    private static double Floor(double value, double step) => Math.Max(0, Math.Floor(value / step) * step);
}
