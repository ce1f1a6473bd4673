using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Tests.Support;
using Flare.Web.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Security;

/// <summary>Issue 9, acceptance 1: nothing but the sign-in pages, <c>/v1</c> and <c>/metrics</c> answers without an administrator.</summary>
[Collection(nameof(HostCollection))]
public sealed class AuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The only endpoints that may be reached without signing in, as route patterns (static files aside).</summary>
    private static readonly string[] OpenByDesign =
        ["/login", "/setup", "/account/logout", "/metrics", "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/feedback", "/v1/{**rest}"];

    [Fact]
    public async Task EveryUiRouteAndApiEndpoint_WithoutSession_RedirectsToSignInOr401()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: true);
        await server.StartAsync(Ct);
        using var anonymous = SignIn.CreateCookieClient(server.BaseAddress);

        var endpoints = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var open = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null).Select(e => e.RoutePattern.RawText ?? "").ToList();
        var unexpected = open.Where(p => !OpenByDesign.Contains(p) && !IsStaticFile(p)).Distinct().ToList();
        Assert.True(unexpected.Count == 0, "Endpoints open without sign-in that should not be: " + string.Join(", ", unexpected));

        var checkedCount = 0;
        var failures = new List<string>();
        foreach (var endpoint in endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null))
        {
            var path = Concrete(endpoint.RoutePattern.RawText ?? "/");
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods.Where(m => m is "GET" or "POST" or "PUT" or "DELETE" or "PATCH"))
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is not "GET" and not "DELETE")
                {
                    request.Content = JsonContent.Create(new { });
                }

                using var response = await anonymous.SendAsync(request, Ct);
                checkedCount++;
                var ok = path.StartsWith("/api", StringComparison.Ordinal)
                    ? response.StatusCode == HttpStatusCode.Unauthorized && response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                    : response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("/login", StringComparison.Ordinal) == true
                      || response.StatusCode == HttpStatusCode.Unauthorized;
                if (!ok)
                {
                    failures.Add($"{method} {path} → {(int)response.StatusCode} {response.Headers.Location}");
                }
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{checkedCount} protected endpoint/method pairs checked without a session.");
        Assert.True(checkedCount > 30, $"only {checkedCount} endpoints found");
        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // And with the admin token, /api answers.
        using var admin = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/models", Ct)).StatusCode);
    }

    [Fact]
    public async Task JobsDashboard_RefusesUnauthenticatedLoopback_EvenWithAnApiKey_AndOpensForAnAdministrator()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false, "--Flare:BootstrapApiKey=sk-flare-jobs-test-0123456789abcdef");
        await server.StartAsync(Ct);
        using var anonymous = SignIn.CreateCookieClient(server.BaseAddress);

        foreach (var path in new[] { "/jobs", "/jobs/jobs/succeeded", "/jobs/stats" })
        {
            var response = await anonymous.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Contains("/login", response.Headers.Location!.ToString());
        }

        using var withApiKey = SignIn.CreateCookieClient(server.BaseAddress);
        withApiKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-flare-jobs-test-0123456789abcdef");
        Assert.Equal(HttpStatusCode.Unauthorized, (await withApiKey.GetAsync("/jobs", Ct)).StatusCode);

        using var signedIn = await SignIn.CreateSignedInClientAsync(server.BaseAddress, Ct);
        var dashboard = await signedIn.GetAsync("/jobs", Ct);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("Flare jobs", await dashboard.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task WrongPasswords_LockTheAccount_EvenAgainstTheRightPassword()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false, "--Flare:Admin:MaxFailedSignIns=3", "--Flare:Admin:LockoutMinutes=10");
        await server.StartAsync(Ct);
        using var browser = SignIn.CreateCookieClient(server.BaseAddress);

        async Task<HttpResponseMessage> Attempt(string password) =>
            await SignIn.PostFormAsync(browser, "login", new() { ["Input.UserName"] = AdminCredentials.UserName, ["Input.Password"] = password }, Ct);

        for (var i = 0; i < 2; i++)
        {
            var wrong = await Attempt("not-the-password");
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains("Wrong user name or password.", await wrong.Content.ReadAsStringAsync(Ct));
        }

        var third = await Attempt("still-not-it");
        Assert.Contains("locked until", await third.Content.ReadAsStringAsync(Ct));

        var right = await Attempt(AdminCredentials.Password);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Contains("locked until", await right.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/", Ct)).StatusCode);

        // An unknown user gets the same answer as a wrong password.
        var unknown = await SignIn.PostFormAsync(browser, "login", new() { ["Input.UserName"] = "mallory", ["Input.Password"] = "whatever-it-is" }, Ct);
        Assert.Contains("Wrong user name or password.", await unknown.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task SignIn_ThenPagesOpen_AndSignOutClosesThemAgain()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: true);
        await server.StartAsync(Ct);
        using var client = await SignIn.CreateSignedInClientAsync(server.BaseAddress, Ct);

        var home = await client.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/models", Ct)).StatusCode);

        var html = await home.Content.ReadAsStringAsync(Ct);
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        var signOut = await client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = System.Net.WebUtility.HtmlDecode(token) }), Ct);
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/models", Ct)).StatusCode);
    }

    [Fact]
    public async Task SignOut_WithoutAntiforgeryToken_Refused()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false);
        await server.StartAsync(Ct);
        using var client = await SignIn.CreateSignedInClientAsync(server.BaseAddress, Ct);

        var forged = await client.PostAsync("/account/logout", new FormUrlEncodedContent([]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/", Ct)).StatusCode);
    }

    [Fact]
    public async Task AdminToken_WrongOrMissing_401WithReason_RightOne200()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false);
        await server.StartAsync(Ct);
        using var client = server.CreateAnonymousClient();

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminCredentials.Token + "x");
        var wrong = await client.GetAsync("/api/models", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not Flare's admin token", await wrong.Content.ReadAsStringAsync(Ct));

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminCredentials.Token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/models", Ct)).StatusCode);
    }

    [Fact]
    public async Task FirstRun_SetupPageCreatesTheAdministrator_ThenClosesForGood()
    {
        using var dir = new TempDirectory();
        // No Flare:Admin:Password here: the setup page is the way in.
        await using var server = new FlareServer(dir.Path, demo: false, "--Flare:Admin:Password=");
        await server.StartAsync(Ct);
        using var browser = SignIn.CreateCookieClient(server.BaseAddress);

        var login = await browser.GetAsync("/login", Ct);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.EndsWith("/setup", login.Headers.Location!.ToString());

        var tooShort = await SignIn.PostFormAsync(browser, "setup", new() { ["Input.UserName"] = "ops", ["Input.Password"] = "short", ["Input.Confirm"] = "short" }, Ct);
        Assert.Contains($"at least {AdminAccounts.MinPasswordLength} characters", await tooShort.Content.ReadAsStringAsync(Ct));

        var created = await SignIn.PostFormAsync(browser, "setup", new() { ["Input.UserName"] = "ops", ["Input.Password"] = "a-long-enough-password", ["Input.Confirm"] = "a-long-enough-password" }, Ct);
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);

        // The page is closed now: it sends to sign-in, and a second post creates nobody.
        var again = await browser.GetAsync("/setup", Ct);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.False(await server.Services.GetRequiredService<AdminAccounts>().CreateFirstAsync("eve", "another-long-password", Ct));

        var signIn = await SignIn.PostFormAsync(browser, "login", new() { ["Input.UserName"] = "ops", ["Input.Password"] = "a-long-enough-password" }, Ct);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("Loopback", HttpStatusCode.OK)]
    [InlineData("Off", HttpStatusCode.NotFound)]
    [InlineData("ApiKey", HttpStatusCode.Unauthorized)]
    public async Task Metrics_FollowsTheConfiguredAccess(string access, HttpStatusCode anonymousStatus)
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false, $"--Flare:Metrics:Access={access}", "--Flare:BootstrapApiKey=sk-flare-metrics-test-0123456789abcdef");
        await server.StartAsync(Ct);
        using var client = server.CreateAnonymousClient();

        Assert.Equal(anonymousStatus, (await client.GetAsync("/metrics", Ct)).StatusCode);

        if (access == "ApiKey")
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-flare-metrics-test-0123456789abcdef");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics", Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task Responses_CarrySecurityHeaders()
    {
        using var dir = new TempDirectory();
        await using var server = new FlareServer(dir.Path, demo: false);
        await server.StartAsync(Ct);
        using var client = server.CreateAnonymousClient();

        foreach (var path in new[] { "/login", "/api/models", "/v1/models" })
        {
            var response = await client.GetAsync(path, Ct);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        }

        var csp = (await client.GetAsync("/login", Ct)).Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
    }

    private static bool IsStaticFile(string pattern) => Path.HasExtension(pattern.Split('?')[0].TrimEnd('/')) || pattern.StartsWith("_framework", StringComparison.Ordinal) || pattern.StartsWith("_content", StringComparison.Ordinal);

    /// <summary>A path that matches the route pattern: parameters become 1, catch-alls "x".</summary>
    private static string Concrete(string pattern)
    {
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{\*\*?[^}]+\}", "x");
        path = System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}]+\}", "1");
        return path.StartsWith('/') ? path : "/" + path;
    }
}
