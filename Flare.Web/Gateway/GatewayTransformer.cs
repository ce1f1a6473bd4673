using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Flare.Routing.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace Flare.Web.Gateway;

/// <summary>Times one request: Flare's own share is everything except the waits on backends.</summary>
internal sealed class RequestTiming(long started)
{
    public long Started { get; } = started;

    /// <summary>Stopwatch ticks spent waiting for backends' response headers, over all attempts.</summary>
    public long BackendTicks { get; set; }

    /// <summary>Flare's time up to the response headers, excluding the backends': what <c>x-flare-overhead-ms</c> says.</summary>
    public double OverheadMs { get; set; }
}

/// <summary>
/// Shapes one attempt: the deployment's URL, its served model name in the body, its API key (and never
/// the client's key) upstream; Flare's headers on the way back.
/// </summary>
internal sealed class GatewayTransformer(V1Endpoint endpoint, AttemptContext attempt, string policy, RequestTiming timing) : HttpTransformer
{
    /// <summary>
    /// Puts this attempt's body (the served model name written in) where the forwarder reads it: YARP
    /// streams the outgoing body from <see cref="HttpRequest.Body"/> and does not allow replacing it later.
    /// </summary>
    public static void SetBody(HttpRequest request, byte[] body)
    {
        request.Body = new MemoryStream(body, writable: false);
        request.ContentLength = body.Length;
        request.ContentType = "application/json";
    }

    public override async ValueTask TransformRequestAsync(HttpContext http, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken ct)
    {
        await base.TransformRequestAsync(http, proxyRequest, destinationPrefix, ct);
        var target = attempt.Target;
        proxyRequest.RequestUri = UpstreamUri(target, endpoint);
        proxyRequest.Headers.Authorization = target.ApiKey is null ? null : new AuthenticationHeaderValue("Bearer", target.ApiKey);
        proxyRequest.Headers.Remove("api-key");
        proxyRequest.Headers.Host = null;
        proxyRequest.Options.Set(AttemptContext.Key, attempt);
        attempt.SendStarted = Stopwatch.GetTimestamp();
    }

    // A snapshot's targets are immutable and replaced on registry changes, so their URIs are built once
    // per target, not per request; the table lets go of a target when its snapshot is gone.
    private static readonly ConditionalWeakTable<DeploymentTarget, Uri[]> Uris = new();

    private static Uri UpstreamUri(DeploymentTarget target, V1Endpoint endpoint)
    {
        var uris = Uris.GetValue(target, static t => [new Uri(t.BaseUrl + "/chat/completions"), new Uri(t.BaseUrl + "/completions")]);
        return uris[endpoint == V1Endpoint.ChatCompletions ? 0 : 1];
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext http, HttpResponseMessage? proxyResponse, CancellationToken ct)
    {
        var now = Stopwatch.GetTimestamp();
        if (attempt.SendStarted != 0)
        {
            timing.BackendTicks += now - attempt.SendStarted;
        }

        var copy = await base.TransformResponseAsync(http, proxyResponse, ct);
        if (proxyResponse is not null)
        {
            timing.OverheadMs = Stopwatch.GetElapsedTime(timing.Started, now).TotalMilliseconds
                - Stopwatch.GetElapsedTime(0, timing.BackendTicks).TotalMilliseconds;
            var headers = http.Response.Headers;
            headers["x-flare-deployment"] = attempt.Target.Name;
            headers["x-flare-policy"] = policy;
            headers["x-flare-overhead-ms"] = Math.Max(0, timing.OverheadMs).ToString("0.###", CultureInfo.InvariantCulture);
            if (attempt.Stream)
            {
                // Proxies in between must not buffer the stream.
                headers["x-accel-buffering"] = "no";
                headers.CacheControl = "no-cache";
            }
        }

        return copy;
    }
}
