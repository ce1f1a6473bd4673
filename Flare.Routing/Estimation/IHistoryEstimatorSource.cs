namespace Flare.Routing.Estimation;

/// <summary>
/// The live estimator over the routing history (ROUTING.md §4), keyed by registry model names. The host
/// builds it from the database at start and adds imported and feedback rows as they are committed;
/// readers on the request path only read <see cref="Current"/> (a field read) and call
/// <see cref="HistoryEstimator.Estimate"/>, which is safe during inserts.
/// </summary>
public interface IHistoryEstimatorSource
{
    /// <summary>The estimator; empty (no neighbours, no priors) until history exists.</summary>
    HistoryEstimator Current { get; }

    /// <summary>True once the start-up rebuild from the database has finished.</summary>
    bool IsReady { get; }
}
