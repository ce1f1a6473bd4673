using System.Globalization;
using Flare.Routing.Profiles;
using Flare.Routing.Routing;

namespace Flare.Web.Overview;

/// <summary>Why a deployment's profile needs the operator's attention.</summary>
public enum ProfileIssue
{
    /// <summary>Never profiled: the router and the explorer have no latency curves for it.</summary>
    Missing,

    /// <summary>Fitted longer ago than <see cref="ProfileHealth.StaleAfter"/>: the deployment may have changed since.</summary>
    Stale,

    /// <summary>A curve of the fit is poor or not validated (<see cref="DeploymentProfile.IsFlagged"/>).</summary>
    PoorFit,
}

/// <summary>One deployment whose profile needs attention, and why in words.</summary>
public sealed record ProfileAttention(int DeploymentId, string Deployment, ProfileIssue Issue, string Detail);

/// <summary>Which enabled deployments have no profile, a stale one, or a poorly fitted one.</summary>
public static class ProfileHealth
{
    /// <summary>A fit older than this is stale (7 days): re-profile after a change of GPUs, engine or settings, or on a schedule.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromDays(7);

    /// <summary>The deployments needing attention, in deployment order; a stale and poorly fitted profile is listed twice.</summary>
    public static IReadOnlyList<ProfileAttention> Assess(IEnumerable<DeploymentTarget> deployments, ProfileSnapshot profiles, DateTime utcNow, TimeSpan? staleAfter = null)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        ArgumentNullException.ThrowIfNull(profiles);
        var limit = staleAfter ?? StaleAfter;
        var result = new List<ProfileAttention>();
        foreach (var d in deployments)
        {
            if (profiles.For(d.Id) is not { } profile)
            {
                result.Add(new ProfileAttention(d.Id, d.Name, ProfileIssue.Missing, "never profiled"));
                continue;
            }

            var age = utcNow - profile.FittedUtc;
            if (age > limit)
            {
                result.Add(new ProfileAttention(d.Id, d.Name, ProfileIssue.Stale, $"fitted {Age(age)} ago (version {profile.Version})"));
            }

            if (profile.IsFlagged)
            {
                var curves = new[] { ("TTFT", profile.Fit.Ttft), ("TPOT", profile.Fit.Tpot), ("e2e", profile.Fit.E2e) }
                    .Where(c => c.Item2.IsFlagged)
                    .Select(c => $"{c.Item1} {Verdict(c.Item2)}");
                result.Add(new ProfileAttention(d.Id, d.Name, ProfileIssue.PoorFit, string.Join("; ", curves)));
            }
        }

        return result;
    }

    private static string Verdict(CurveFitQuality q) => q.Verdict switch
    {
        FitVerdict.Poor => q.CrossValidatedMape is { } mape ? $"poor (cross-validated MAPE {mape.ToString("0%", CultureInfo.InvariantCulture)})" : "poor",
        _ => "not validated" + (q.Note is { Length: > 0 } note ? $" ({note})" : ""),
    };

    private static string Age(TimeSpan age) => age.TotalDays >= 2 ? $"{Math.Floor(age.TotalDays):0} days" : $"{Math.Floor(age.TotalHours):0} hours";
}
