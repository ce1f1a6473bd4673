namespace Flare.Routing.Routing;

/// <summary>
/// Least outstanding requests, relative to each deployment's capacity: picks the candidate with the
/// lowest in-flight / max-concurrency, ties to the lower id (so the choice is deterministic). Skips
/// deployments already at their limit.
/// </summary>
public sealed class LeastOutstandingPolicy : IRoutingPolicy
{
    public const string PolicyName = "least-outstanding";

    public string Name => PolicyName;

    public int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates)
    {
        var best = -1;
        var bestLoad = double.MaxValue;
        for (var i = 0; i < candidates.Length; i++)
        {
            var c = candidates[i];
            var inFlight = c.State.InFlight;
            if (inFlight >= c.Target.MaxConcurrency)
            {
                continue;
            }

            var load = (double)inFlight / c.Target.MaxConcurrency;
            if (load < bestLoad)
            {
                best = i;
                bestLoad = load;
            }
        }

        return best;
    }
}
