using System.ComponentModel.DataAnnotations;

namespace Flare.Web.Gateway;

/// <summary>The <c>/v1</c> data plane's settings: section <c>Flare:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Flare:Gateway";

    /// <summary>Largest request body accepted, in bytes; larger bodies get 413. Default 8 MiB.</summary>
    [Range(1024, 512L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Deployments tried per request (first try plus retries). Default 3.</summary>
    [Range(1, 10)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>No retry starts later than this after the request arrived, in seconds. Default 30.</summary>
    [Range(0.1, 3600)]
    public double RetryBudgetSeconds { get; set; } = 30;

    /// <summary>Time to connect and get response headers, and the longest silence while streaming, in seconds. Default 120.</summary>
    [Range(1, 3600)]
    public double UpstreamTimeoutSeconds { get; set; } = 120;

    /// <summary>Consecutive failures that take a deployment out (passive health). Default 3.</summary>
    [Range(1, 1000)]
    public int FailuresToEject { get; set; } = 3;

    /// <summary>How long a failing deployment stays out before it may be probed back in, in seconds. Default 15.</summary>
    [Range(0.1, 3600)]
    public double EjectSeconds { get; set; } = 15;

    /// <summary>How often ejected deployments are probed (GET {base}/models), in seconds. Default 5.</summary>
    [Range(0.1, 3600)]
    public double ProbeIntervalSeconds { get; set; } = 5;

    /// <summary>Rows kept in the request log; older rows are deleted. Default 1,000,000.</summary>
    [Range(1000, 1_000_000_000)]
    public int RequestLogRetentionRows { get; set; } = 1_000_000;

    /// <summary>Write the per-request log at all. Default true.</summary>
    public bool RequestLogEnabled { get; set; } = true;

    /// <summary>Router names clients may send as <c>model</c> to let Flare choose among every deployment by the live routing
    /// plan. Default <c>flare</c>. (Each policy's name, e.g. <c>port</c>, is also accepted and routes by that policy's plan.)</summary>
    public string[] RouterNames { get; set; } = ["flare"];

    /// <summary>Remember the prompt of every successful request for <c>/v1/feedback</c>, also of requests that name a
    /// registered model. Default false: routed requests (a router or policy name) are always remembered, since their prompt
    /// is read anyway; reading it on the plain model path would cost that path allocations it otherwise does not make.</summary>
    public bool RememberAllPrompts { get; set; }
}
