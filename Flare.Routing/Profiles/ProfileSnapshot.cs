namespace Flare.Routing.Profiles;

/// <summary>The active fitted profile of one deployment, as the routing side sees it.</summary>
/// <param name="DeploymentId">The deployment the curves belong to.</param>
/// <param name="Version">The fit's version (1, 2, …): a new version per fit, one active per deployment.</param>
/// <param name="Fit">The fitted curves and each curve's R² and cross-validated MAPE.</param>
/// <param name="FittedUtc">When the fit was made (UTC).</param>
public sealed record DeploymentProfile(int DeploymentId, int Version, ProfileFit Fit, DateTime FittedUtc)
{
    /// <summary>True when any curve is not <see cref="FitVerdict.Good"/>: the estimate can be used but should not be trusted blindly.</summary>
    public bool IsFlagged => Fit.Ttft.IsFlagged || Fit.Tpot.IsFlagged || Fit.E2e.IsFlagged;
}

/// <summary>
/// Every deployment's active profile, immutable: it is swapped as a whole when a fit changes, so the request
/// path reads curves without touching the database (STYLE.md: immutable snapshots on the hot path).
/// </summary>
/// <param name="Revision">Increases with every published snapshot.</param>
/// <param name="ByDeployment">Active profile per deployment id; a deployment never profiled is absent.</param>
public sealed record ProfileSnapshot(long Revision, IReadOnlyDictionary<int, DeploymentProfile> ByDeployment)
{
    /// <summary>No profiles yet.</summary>
    public static ProfileSnapshot Empty { get; } = new(0, new Dictionary<int, DeploymentProfile>());

    /// <summary>The deployment's active profile, or null when it has none.</summary>
    public DeploymentProfile? For(int deploymentId) => ByDeployment.GetValueOrDefault(deploymentId);
}

/// <summary>Where the routing side reads fitted profiles: the latest published <see cref="ProfileSnapshot"/>.</summary>
public interface IProfileSource
{
    /// <summary>The current snapshot; reading it is a field read, never a query.</summary>
    ProfileSnapshot Current { get; }

    /// <summary>Raised after a new snapshot has been published.</summary>
    event Action<ProfileSnapshot>? Published;
}
