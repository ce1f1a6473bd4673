using System.Globalization;

namespace Flare.Routing.Optimization;

/// <summary>A constraint of the explorer's sliders.</summary>
public enum ExplorerConstraint
{
    /// <summary>The latency SLO.</summary>
    Slo,

    /// <summary>The cost budget per 1,000 requests.</summary>
    Budget,

    /// <summary>The quality floor.</summary>
    MinQuality,

    /// <summary>The arrival rate is past what the fleet can serve.</summary>
    Capacity,
}

/// <summary>How close the operating points come to one constraint.</summary>
/// <param name="Constraint">The constraint missed.</param>
/// <param name="Closest">The closest value any point reaches (ms, USD per 1k requests or quality; requests/s for capacity).</param>
/// <param name="Limit">The constraint's bound.</param>
/// <param name="Meeting">The other constraints the points compared meet; all the others when this one binds.</param>
/// <param name="Message">The sentence the explorer shows.</param>
public sealed record ConstraintMiss(
    ExplorerConstraint Constraint,
    double Closest,
    double Limit,
    IReadOnlyList<ExplorerConstraint> Meeting,
    string Message)
{
    /// <summary>By how much the closest point misses the bound (always positive).</summary>
    public double Gap => Math.Abs(Closest - Limit);
}

/// <summary>Why no operating point meets every constraint.</summary>
/// <param name="Message">Every sentence, for the operator.</param>
/// <param name="Binding">Constraints each of which, relaxed by its gap alone, would make a point feasible; empty when
/// no single constraint does (then <see cref="Misses"/> says how close each comes).</param>
/// <param name="Misses">Every miss reported, binding or not.</param>
public sealed record ExplorerInfeasibility(string Message, IReadOnlyList<ConstraintMiss> Binding, IReadOnlyList<ConstraintMiss> Misses);

/// <summary>The explorer's constraints: which points meet them, which is better, and why none does.</summary>
public static class ExplorerConstraints
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>True when <paramref name="point"/> overloads nothing and meets every constraint set.</summary>
    public static bool IsFeasible(ExplorerPoint point, ExplorerSettings settings) =>
        !point.IsOverloaded && Meets(point, settings, ExplorerConstraint.Slo) && Meets(point, settings, ExplorerConstraint.Budget)
        && Meets(point, settings, ExplorerConstraint.MinQuality);

    /// <summary>True when the constraint is not set or <paramref name="point"/> meets it.</summary>
    public static bool Meets(ExplorerPoint point, ExplorerSettings settings, ExplorerConstraint constraint) => constraint switch
    {
        ExplorerConstraint.Slo => settings.SloMs is not { } slo || point.Latency(settings.Statistic) <= slo,
        ExplorerConstraint.Budget => settings.BudgetPer1kUsd is not { } budget || point.CostPer1kUsd <= budget,
        ExplorerConstraint.MinQuality => settings.MinQuality is not { } floor || point.MeanQuality >= floor,
        _ => !point.IsOverloaded,
    };

    /// <summary>True when <paramref name="a"/> is strictly better than <paramref name="b"/> for the objective (the other
    /// metric breaks ties).</summary>
    public static bool Better(ExplorerPoint a, ExplorerPoint b, ExplorerObjective objective)
    {
        const double tie = 1e-12;
        return objective == ExplorerObjective.MaxQuality
            ? a.MeanQuality > b.MeanQuality + tie || (Math.Abs(a.MeanQuality - b.MeanQuality) <= tie && a.CostPer1kUsd < b.CostPer1kUsd)
            : a.CostPer1kUsd < b.CostPer1kUsd - tie || (Math.Abs(a.CostPer1kUsd - b.CostPer1kUsd) <= tie && a.MeanQuality > b.MeanQuality);
    }

    /// <summary>
    /// Says which constraint binds and by how much. A constraint binds when the points meeting all the others exist but
    /// none meets it: then the closest of those (the fastest, the cheapest, the best) and its gap are reported — e.g.
    /// "the cheapest point meeting the SLO costs $0.42 per 1k requests, $0.12 over the $0.30 budget". When no single
    /// constraint binds, each is compared on the points meeting one other, or on all points.
    /// </summary>
    public static ExplorerInfeasibility Explain(IReadOnlyList<ExplorerPoint> points, ExplorerSettings settings, double fleetCapacityPerSecond)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(settings);
        var rate = settings.ArrivalRatePerSecond;
        var usable = points.Where(p => !p.IsOverloaded).ToList();
        if (usable.Count == 0)
        {
            var capacity = new ConstraintMiss(ExplorerConstraint.Capacity, fleetCapacityPerSecond, rate, [],
                $"At {Rate(rate)} requests/s every operating point overloads a deployment: the fleet serves about " +
                $"{Rate(fleetCapacityPerSecond)} requests/s at these request lengths. Lower the arrival rate or add capacity.");
            return new ExplorerInfeasibility(capacity.Message, [capacity], [capacity]);
        }

        var set = new[] { ExplorerConstraint.Slo, ExplorerConstraint.Budget, ExplorerConstraint.MinQuality }
            .Where(c => IsSet(settings, c)).ToList();
        var binding = new List<ConstraintMiss>();
        foreach (var constraint in set)
        {
            var others = set.Where(c => c != constraint).ToList();
            if (Closest(usable, settings, constraint, others) is { } miss)
            {
                binding.Add(miss with { Message = $"{Capitalised(Name(constraint))} binds: {Lower(miss.Message)}" });
            }
        }

        var misses = new List<ConstraintMiss>(binding);
        if (binding.Count == 0)
        {
            // Two or more constraints conflict: compare each on the points meeting one other, else on all.
            foreach (var constraint in set)
            {
                var found = false;
                foreach (var other in set.Where(c => c != constraint))
                {
                    if (Closest(usable, settings, constraint, [other]) is { } miss)
                    {
                        misses.Add(miss);
                        found = true;
                    }
                }

                if (!found && Closest(usable, settings, constraint, []) is { } alone)
                {
                    misses.Add(alone);
                }
            }
        }

        var intro = $"No operating point meets every constraint at {Rate(rate)} requests/s.";
        if (binding.Count == 0 && misses.Count > 0)
        {
            intro += " No single constraint can be relaxed alone:";
        }

        var overloaded = points.Count - usable.Count;
        var tail = overloaded > 0 ? $" ({overloaded} of the {points.Count} points evaluated overload a deployment at this rate.)" : "";
        return new ExplorerInfeasibility(string.Join(" ", [intro, .. misses.Select(m => m.Message)]) + tail, binding, misses);
    }

    /// <summary>Among the points meeting <paramref name="meeting"/>, the one closest to <paramref name="constraint"/>;
    /// null when none meets them or the closest meets the constraint too.</summary>
    private static ConstraintMiss? Closest(List<ExplorerPoint> usable, ExplorerSettings settings, ExplorerConstraint constraint, IReadOnlyList<ExplorerConstraint> meeting)
    {
        var pool = usable.Where(p => meeting.All(c => Meets(p, settings, c))).ToList();
        if (pool.Count == 0)
        {
            return null;
        }

        var which = Which(meeting);
        switch (constraint)
        {
            case ExplorerConstraint.Slo:
            {
                var slo = settings.SloMs!.Value;
                var fastest = pool.Min(p => p.Latency(settings.Statistic));
                return fastest <= slo ? null : new ConstraintMiss(constraint, fastest, slo, meeting,
                    $"The fastest point{which} has a {settings.LatencyName} of {Ms(fastest)}, {Ms(fastest - slo)} over the {Ms(slo)} SLO.");
            }

            case ExplorerConstraint.Budget:
            {
                var budget = settings.BudgetPer1kUsd!.Value;
                var cheapest = pool.Min(p => p.CostPer1kUsd);
                return cheapest <= budget ? null : new ConstraintMiss(constraint, cheapest, budget, meeting,
                    $"The cheapest point{which} costs {Usd(cheapest)} per 1k requests, {Usd(cheapest - budget)} over the {Usd(budget)} budget.");
            }

            default:
            {
                var floor = settings.MinQuality!.Value;
                var best = pool.Max(p => p.MeanQuality);
                return best >= floor ? null : new ConstraintMiss(constraint, best, floor, meeting,
                    $"The best quality{which} is {Quality(best)}, {Quality(floor - best)} under the {Quality(floor)} floor.");
            }
        }
    }

    private static bool IsSet(ExplorerSettings s, ExplorerConstraint c) => c switch
    {
        ExplorerConstraint.Slo => s.SloMs is not null,
        ExplorerConstraint.Budget => s.BudgetPer1kUsd is not null,
        ExplorerConstraint.MinQuality => s.MinQuality is not null,
        _ => false,
    };

    private static string Name(ExplorerConstraint c) => c switch
    {
        ExplorerConstraint.Slo => "the SLO",
        ExplorerConstraint.Budget => "the budget",
        ExplorerConstraint.MinQuality => "the quality floor",
        _ => "the fleet's capacity",
    };

    // " meeting the SLO and the quality floor and within the budget", or " of all" for every point.
    private static string Which(IReadOnlyList<ExplorerConstraint> meeting)
    {
        if (meeting.Count == 0)
        {
            return " of all";
        }

        var met = meeting.Where(c => c != ExplorerConstraint.Budget).Select(Name).ToList();
        var parts = new List<string>();
        if (met.Count > 0)
        {
            parts.Add("meeting " + string.Join(" and ", met));
        }

        if (meeting.Contains(ExplorerConstraint.Budget))
        {
            parts.Add("within the budget");
        }

        return " " + string.Join(" and ", parts);
    }

    private static string Capitalised(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    private static string Lower(string s) => char.ToLowerInvariant(s[0]) + s[1..];

    /// <summary>Milliseconds as the explorer writes them: "1,240 ms".</summary>
    public static string Ms(double ms) => ms.ToString("#,0", Invariant) + " ms";

    /// <summary>Dollars as the explorer writes them: "$0.42"; below ten cents three significant digits ("$0.0123").</summary>
    public static string Usd(double usd) => "$" + (Math.Abs(usd) >= 0.1 ? usd.ToString("#,0.00", Invariant)
        : Math.Abs(usd) >= 1e-4 ? usd.ToString("G3", Invariant)
        : usd.ToString("0.######", Invariant));

    /// <summary>A quality as the explorer writes it: "0.712".</summary>
    public static string Quality(double q) => q.ToString("0.000", Invariant);

    private static string Rate(double rate) => rate.ToString(rate >= 10 ? "#,0" : "0.##", Invariant);
}
