namespace Flare.Web.Security;

/// <summary>
/// Headers every response carries: no MIME sniffing, no framing, no referrer to other sites, and a content security
/// policy that lets Blazor Server (its script and WebSocket), MudBlazor (inline styles) and Plotly (its
/// bundled script, data: images) work while refusing scripts from anywhere else. The jobs dashboard
/// (Hangfire) uses inline scripts and gets a policy of its own.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    private const string JobsPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    public Task InvokeAsync(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        if (!http.Request.Path.StartsWithSegments("/v1"))
        {
            headers.ContentSecurityPolicy = http.Request.Path.StartsWithSegments(Hosting.JobsHosting.DashboardPath) ? JobsPolicy : Policy;
        }

        return next(http);
    }
}
