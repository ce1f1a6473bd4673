namespace Flare.Routing.Routing;

/// <summary>One deployment a request could go to, with its live state.</summary>
public readonly record struct Candidate(DeploymentTarget Target, DeploymentState State);

/// <summary>What a policy knows about the request it routes.</summary>
/// <param name="RequestedModel">The <c>model</c> the client asked for (a registered model or a router name).</param>
/// <param name="InputTokensEstimate">Input tokens, estimated from the body size when not counted.</param>
/// <param name="Attempt">0 for the first try, 1 for the first retry, …</param>
public readonly record struct RoutingRequest(string RequestedModel, int InputTokensEstimate, int Attempt);

/// <summary>
/// Turns candidates into a choice (YARP's <c>ILoadBalancingPolicy</c> is the model). Scoring lives in
/// estimators; a policy only decides. Called on the request path: it must cost microseconds and must
/// not block.
/// </summary>
public interface IRoutingPolicy
{
    /// <summary>The name configuration and the <c>x-flare-policy</c> header use.</summary>
    string Name { get; }

    /// <summary>Index of the chosen candidate, or -1 when none should be used.</summary>
    int Choose(in RoutingRequest request, ReadOnlySpan<Candidate> candidates);
}
