using System.Net.Http.Headers;

namespace Flare.Tests.Support;

/// <summary>
/// The administrator every test host is started with, and an HTTP handler that presents the admin token
/// where an administrator is needed (<c>/api</c>, <c>/jobs</c>) and leaves every other request's own
/// credentials alone (a <c>/v1</c> request keeps its API key).
/// </summary>
public static class AdminCredentials
{
    public const string UserName = "admin";
    public const string Password = "test-admin-password-1";
    public const string Token = "flare-test-admin-token-0123456789abcdef";

    /// <summary>Command-line settings that give a host this administrator and token.</summary>
    public static readonly string[] Args = [$"--Flare:Admin:UserName={UserName}", $"--Flare:Admin:Password={Password}", $"--Flare:AdminToken={Token}"];

    public static bool NeedsAdmin(Uri? uri) =>
        uri is not null && (uri.AbsolutePath.StartsWith("/api", StringComparison.Ordinal) || uri.AbsolutePath.StartsWith("/openapi", StringComparison.Ordinal)
                            || uri.AbsolutePath.StartsWith("/jobs", StringComparison.Ordinal));
}

/// <summary>Sends the admin token to <c>/api</c> and <c>/jobs</c>.</summary>
public sealed class AdminTokenHandler : DelegatingHandler
{
    /// <summary>For a handler chain whose end is set later (WebApplicationFactory's).</summary>
    public AdminTokenHandler()
    {
    }

    public AdminTokenHandler(HttpMessageHandler inner) : base(inner)
    {
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (AdminCredentials.NeedsAdmin(request.RequestUri))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminCredentials.Token);
        }

        return base.SendAsync(request, ct);
    }
}
