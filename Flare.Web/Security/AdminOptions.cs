using System.ComponentModel.DataAnnotations;

namespace Flare.Web.Security;

/// <summary>Administrator sign-in: section <c>Flare:Admin</c> (environment <c>Flare__Admin__*</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Flare:Admin";

    /// <summary>The first administrator's name when <see cref="Password"/> is set. Default: <c>admin</c>.</summary>
    [Required(AllowEmptyStrings = false), MaxLength(100)]
    public string UserName { get; set; } = "admin";

    /// <summary>
    /// Creates the first administrator at start when none exists (for automation). Without it, the first
    /// visit to the UI opens the one-time setup page. Never changes an existing administrator.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>Failed sign-ins in a row before the account is locked. Default: 5.</summary>
    [Range(1, 100)]
    public int MaxFailedSignIns { get; set; } = 5;

    /// <summary>How long a locked account refuses sign-in. Default: 15 minutes.</summary>
    [Range(0.01, 24 * 60)]
    public double LockoutMinutes { get; set; } = 15;

    /// <summary>How long a sign-in lasts without activity (sliding). Default: 8 hours.</summary>
    [Range(0.1, 24 * 30)]
    public double SessionHours { get; set; } = 8;
}

/// <summary>Who may read <c>/metrics</c>.</summary>
public enum MetricsAccess
{
    /// <summary>Requests from the machine itself only (the default: a local Prometheus or agent).</summary>
    Loopback,

    /// <summary>Anyone with a valid <c>/v1</c> API key (as a bearer token).</summary>
    ApiKey,

    /// <summary>Anyone who can reach Flare.</summary>
    Open,

    /// <summary>Nobody: the endpoint answers 404.</summary>
    Off,
}

/// <summary>Section <c>Flare:Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Flare:Metrics";

    public MetricsAccess Access { get; set; } = MetricsAccess.Loopback;
}
