namespace Flare.Routing.Routing;

/// <summary>
/// Uniformly at random over the candidates that have room, from a seeded stream: the n-th decision draws
/// <c>SplitMix64(seed + n)</c>, so the same seed and the same sequence of requests give the same choices.
/// </summary>
internal sealed class RandomPolicy(int seed) : IRoutingPolicy
{
    public const string PolicyName = "random";

    private long _draws;

    public string Name => PolicyName;

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        var open = Baselines.CountOpen(candidates);
        if (open == 0)
        {
            return RoutingDecision.NoCandidate;
        }

        var draw = SplitMix64(unchecked((ulong)seed + (ulong)Interlocked.Increment(ref _draws)));
        return Baselines.NthOpen(candidates, (int)(draw % (ulong)open));
    }

    /// <summary>Steele, Lea &amp; Flood's SplitMix64 finaliser: a well-mixed 64-bit value per counter value.</summary>
    internal static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }
}

/// <summary>Each candidate with room in turn (in deployment-id order), across requests.</summary>
internal sealed class RoundRobinPolicy : IRoutingPolicy
{
    public const string PolicyName = "round-robin";

    private long _next = -1;

    public string Name => PolicyName;

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        var open = Baselines.CountOpen(candidates);
        if (open == 0)
        {
            return RoutingDecision.NoCandidate;
        }

        var turn = (ulong)Interlocked.Increment(ref _next);
        return Baselines.NthOpen(candidates, (int)(turn % (ulong)open));
    }
}

/// <summary>The lowest estimated cost ĉ; ties to the higher q̂, then the lower index.</summary>
internal sealed class CheapestPolicy : IRoutingPolicy
{
    public const string PolicyName = "cheapest";

    public string Name => PolicyName;

    public bool NeedsEstimates => true;

    public string Formula => "−ĉ (ties: higher q̂)";

    public CandidateScore? ScoreOf(in RoutingRequest request, in Candidate candidate) =>
        new CandidateScore(-candidate.Estimate.CostUsd, 0, candidate.Estimate.CostUsd, 0, 0);

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates) => Baselines.BestOpen<Cheaper>(candidates);

    private readonly struct Cheaper : Baselines.IOrder
    {
        public static bool Before(in CandidateEstimate a, in CandidateEstimate b) =>
            a.CostUsd < b.CostUsd || (a.CostUsd == b.CostUsd && a.Quality > b.Quality);
    }
}

/// <summary>The highest estimated quality q̂; ties to the lower ĉ, then the lower index.</summary>
internal sealed class BestQualityPolicy : IRoutingPolicy
{
    public const string PolicyName = "best-quality";

    public string Name => PolicyName;

    public bool NeedsEstimates => true;

    public string Formula => "q̂ (ties: lower ĉ)";

    public CandidateScore? ScoreOf(in RoutingRequest request, in Candidate candidate) =>
        new CandidateScore(candidate.Estimate.Quality, candidate.Estimate.Quality, 0, 0, 0);

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates) => Baselines.BestOpen<Better>(candidates);

    private readonly struct Better : Baselines.IOrder
    {
        public static bool Before(in CandidateEstimate a, in CandidateEstimate b) =>
            a.Quality > b.Quality || (a.Quality == b.Quality && a.CostUsd < b.CostUsd);
    }
}

/// <summary>Every request to one registered model, least outstanding among its deployments.</summary>
internal sealed class FixedPolicy(string model) : IRoutingPolicy
{
    public const string PolicyName = "fixed";

    public string Name => PolicyName;

    public string Model => model;

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates) => Baselines.LeastLoaded(candidates, model);
}

/// <summary>
/// A two-model router in RouteLLM's style (ROUTING.md §5's baseline): the strong model when its estimated advantage over
/// the weak one on this prompt, <c>q̂_strong − q̂_weak</c>, is above the threshold t, else the weak one; least
/// outstanding among the chosen model's deployments. When one of the two has no deployment with room, the other.
/// </summary>
internal sealed class ThresholdPolicy(string strong, string weak, double threshold) : IRoutingPolicy
{
    public const string PolicyName = "threshold";

    public string Name => PolicyName;

    public bool NeedsEstimates => true;

    public string Strong => strong;

    public string Weak => weak;

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        double? qStrong = null, qWeak = null;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (candidates[i].IsFull)
            {
                continue;
            }

            var model = candidates[i].Target.ModelName;
            var q = candidates[i].Estimate.Quality;
            if (model == strong)
            {
                qStrong = Math.Max(qStrong ?? double.NegativeInfinity, q);
            }
            else if (model == weak)
            {
                qWeak = Math.Max(qWeak ?? double.NegativeInfinity, q);
            }
        }

        if (qStrong is null && qWeak is null)
        {
            return RoutingDecision.NoCandidate;
        }

        var useStrong = qWeak is null || (qStrong is not null && qStrong.Value - qWeak.Value > threshold);
        return Baselines.LeastLoaded(candidates, useStrong ? strong : weak);
    }
}

/// <summary>Helpers the baselines share; allocation-free.</summary>
internal static class Baselines
{
    public static int CountOpen(ReadOnlySpan<Candidate> candidates)
    {
        var open = 0;
        foreach (var c in candidates)
        {
            if (!c.IsFull)
            {
                open++;
            }
        }

        return open;
    }

    /// <summary>An order of estimates, as a type so that <see cref="BestOpen{TOrder}"/> compiles to a direct call.</summary>
    public interface IOrder
    {
        /// <summary>True when <paramref name="a"/> is strictly preferred to <paramref name="b"/>.</summary>
        static abstract bool Before(in CandidateEstimate a, in CandidateEstimate b);
    }

    /// <summary>The candidate with room that <typeparamref name="TOrder"/> prefers; ties to the lower index.</summary>
    public static int BestOpen<TOrder>(ReadOnlySpan<Candidate> candidates)
        where TOrder : IOrder
    {
        var best = RoutingDecision.NoCandidate;
        for (var i = 0; i < candidates.Length; i++)
        {
            if (!candidates[i].IsFull && (best < 0 || TOrder.Before(candidates[i].Estimate, candidates[best].Estimate)))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Index of the n-th (0-based) candidate with room.</summary>
    public static int NthOpen(ReadOnlySpan<Candidate> candidates, int n)
    {
        for (var i = 0; i < candidates.Length; i++)
        {
            if (!candidates[i].IsFull && n-- == 0)
            {
                return i;
            }
        }

        return RoutingDecision.NoCandidate;
    }

    /// <summary>Least in-flight / max-concurrency among <paramref name="model"/>'s candidates with room; ties to the lower index.</summary>
    public static int LeastLoaded(ReadOnlySpan<Candidate> candidates, string model)
    {
        var best = RoutingDecision.NoCandidate;
        var bestLoad = double.MaxValue;
        for (var i = 0; i < candidates.Length; i++)
        {
            var c = candidates[i];
            if (c.Target.ModelName != model)
            {
                continue;
            }

            var inFlight = c.State.InFlight;
            if (inFlight >= c.Target.MaxConcurrency)
            {
                continue;
            }

            var load = (double)inFlight / c.Target.MaxConcurrency;
            if (load < bestLoad)
            {
                (best, bestLoad) = (i, load);
            }
        }

        return best;
    }
}
