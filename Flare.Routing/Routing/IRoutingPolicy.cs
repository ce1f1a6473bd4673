namespace Flare.Routing.Routing;

/// <summary>
/// One deployment a request could go to, with its live state and, for policies that score, the request's
/// predictions on it (ROUTING.md §1). <see cref="Estimate"/> is the default value when the policy needs none.
/// </summary>
public readonly record struct Candidate(DeploymentTarget Target, DeploymentState State, CandidateEstimate Estimate = default)
{
    /// <summary>True when the deployment already has its maximum of requests in flight: no policy sends it more.</summary>
    public bool IsFull => State.InFlight >= Target.MaxConcurrency;
}

/// <summary>What a policy knows about the request it routes.</summary>
/// <param name="RequestedModel">The <c>model</c> the client asked for (a registered model or a router name).</param>
/// <param name="InputTokensEstimate">Input tokens, estimated from the body size when not counted.</param>
/// <param name="Attempt">0 for the first try, 1 for the first retry, …</param>
/// <param name="UtcNow">When the request arrived (UTC): the time budgets are counted in. Passed in rather than read, so a
/// decision is a function of its inputs.</param>
public readonly record struct RoutingRequest(string RequestedModel, int InputTokensEstimate, int Attempt, DateTime UtcNow = default);

/// <summary>The negative answers of <see cref="IRoutingPolicy.Choose"/>.</summary>
public static class RoutingDecision
{
    /// <summary>No candidate can take the request (none left, or all at their concurrency limit).</summary>
    public const int NoCandidate = -1;

    /// <summary>The policy drops the request: the budget of the deployment it would use is spent for this period (PORT's drop).</summary>
    public const int BudgetExhausted = -2;
}

/// <summary>
/// Turns candidates into a choice (YARP's <c>ILoadBalancingPolicy</c> is the model). Scoring lives in
/// estimators; a policy only decides. Called on the request path: it must cost microseconds, must not
/// allocate and must not block.
/// </summary>
public interface IRoutingPolicy
{
    /// <summary>The name configuration and the <c>x-flare-policy</c> header use.</summary>
    string Name { get; }

    /// <summary>True when <see cref="Choose"/> reads <see cref="Candidate.Estimate"/>: the caller then estimates the prompt
    /// (tokenize, embed, nearest neighbours: about a millisecond) before calling it. False by default.</summary>
    bool NeedsEstimates => false;

    /// <summary>Index of the chosen candidate, or a negative <see cref="RoutingDecision"/> value.</summary>
    int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates);

    /// <summary>
    /// Tells the policy how an attempt it chose ended: <paramref name="costUsd"/> is what the request cost, or null when
    /// the deployment did not serve it (a failure before the first byte, an error status). Budgeted policies replace what
    /// they reserved at <see cref="Choose"/> with it. Nothing by default.
    /// </summary>
    void Settle(in RoutingRequest request, in Candidate chosen, double? costUsd)
    {
    }

    /// <summary>
    /// The candidate's score under this policy, term by term, for explaining a decision (<see cref="RoutingExplanation"/>);
    /// called off the request path. Null for policies that do not score (the default).
    /// </summary>
    CandidateScore? ScoreOf(in RoutingRequest request, in Candidate candidate) => null;

    /// <summary>The score this policy maximises, with its plan's numbers; null for policies that do not score.</summary>
    string? Formula => null;
}

/// <summary>A policy that counts spending against budgets over fixed periods (PORT).</summary>
public interface IBudgetedPolicy
{
    /// <summary>Time until the budgets refill: what a dropped request's <c>Retry-After</c> says.</summary>
    TimeSpan UntilNextPeriod(DateTime utcNow);

    /// <summary>Each deployment's budget and what has been spent of it in the period <paramref name="utcNow"/> falls in.</summary>
    IReadOnlyList<BudgetUsage> Usage(DateTime utcNow);
}

/// <summary>One deployment's budget in the current period.</summary>
/// <param name="Deployment">The deployment's name.</param>
/// <param name="BudgetUsd">Its budget per period, USD.</param>
/// <param name="SpentUsd">Spent (or reserved by requests in flight) so far in this period, USD.</param>
public readonly record struct BudgetUsage(string Deployment, double BudgetUsd, double SpentUsd);
