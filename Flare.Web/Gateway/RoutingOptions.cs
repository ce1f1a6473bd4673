using System.ComponentModel.DataAnnotations;
using Flare.Routing.Routing;

namespace Flare.Web.Gateway;

/// <summary>
/// How routed requests are estimated when the routing history or the profiles know nothing: section
/// <c>Flare:Routing</c>. Every fallback is disclosed (<c>x-flare-estimate: default</c>, and the plan's notes).
/// </summary>
public sealed class RoutingOptions
{
    public const string Section = "Flare:Routing";

    /// <summary>q̂ of a model the routing history has no scores for, in [0, 1]. Default 0.5 (neutral).</summary>
    [Range(0.0, 1.0)]
    public double DefaultQuality { get; set; } = 0.5;

    /// <summary>L̂_out of a model the history has no output lengths for, in tokens; capped by the request's <c>max_tokens</c>.
    /// Default 256.</summary>
    [Range(1.0, 1_000_000.0)]
    public double DefaultOutputTokens { get; set; } = 256;

    /// <summary>TTFT of a deployment with no fitted profile, ms. Default 500.</summary>
    [Range(0.0, 600_000.0)]
    public double UnprofiledTtftMs { get; set; } = 500;

    /// <summary>TPOT of a deployment with no fitted profile, ms per output token. Default 20.</summary>
    [Range(0.0, 60_000.0)]
    public double UnprofiledTpotMs { get; set; } = 20;

    /// <summary>Input tokens of the one typical request a plan is computed on when the routing history has no prompts.
    /// Default 256.</summary>
    [Range(1, 1_000_000)]
    public int TypicalInputTokens { get; set; } = 256;

    /// <summary>The defaults as the core takes them.</summary>
    public EstimationDefaults Defaults() => new()
    {
        Quality = DefaultQuality,
        OutputTokens = DefaultOutputTokens,
        UnprofiledTtftMs = UnprofiledTtftMs,
        UnprofiledTpotMs = UnprofiledTpotMs,
    };
}
