namespace Flare.Web.Explorer;

/// <summary>Which two objectives the explorer's chart puts on its axes; the third is the colour.</summary>
public enum ExplorerProjection
{
    /// <summary>Quality against latency, cost as colour (the default).</summary>
    QualityVsLatency,

    /// <summary>Quality against cost, latency as colour.</summary>
    QualityVsCost,

    /// <summary>Cost against latency, quality as colour.</summary>
    CostVsLatency,
}
