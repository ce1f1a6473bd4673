using System.ComponentModel.DataAnnotations;

namespace Flare.Web.Explorer;

/// <summary>The Pareto explorer's settings: section <c>Flare:Explorer</c>.</summary>
public sealed class ExplorerOptions
{
    public const string Section = "Flare:Explorer";

    /// <summary>Prompts of the routing history the explorer solves on (default 5,000): the first by the SHA-256 of their
    /// text, a fixed and uniform sample. Each costs one estimate (about a millisecond) when the sample is built.</summary>
    [Range(10, 20_000)]
    public int SampleSize { get; set; } = 5000;

    /// <summary>L̂_out, in tokens, for a model whose history rows have no output lengths (default 256, the router's own
    /// default).</summary>
    [Range(1, 100_000)]
    public int AssumedOutputTokens { get; set; } = 256;

    /// <summary>Prompts RouterWise's setup search routes per setup for the GPU allocation advice (default 300).</summary>
    [Range(10, 5000)]
    public int AllocationSampleSize { get; set; } = 300;
}
