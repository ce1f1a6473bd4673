using Flare.Web.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Flare.Web.Security;

/// <summary>
/// Who may do what: every UI page, every <c>/api</c> endpoint and the jobs dashboard need an
/// administrator — signed in with the cookie, or, for <c>/api</c>, presenting the admin token as a bearer
/// token. <c>/v1</c> has its own API keys; <c>/metrics</c> follows <see cref="MetricsOptions"/>. The rule is
/// the fallback policy, so an endpoint added later is protected unless it opts out explicitly.
/// </summary>
public static class FlareAuth
{
    public const string AdminRole = "admin";
    public const string AdminPolicy = "FlareAdmin";

    /// <summary>Chooses the cookie or the admin token per request.</summary>
    public const string SelectorScheme = "Flare";

    public const string LoginPath = "/login";
    public const string SetupPath = "/setup";
    public const string LogoutPath = "/account/logout";

    public static void AddFlareSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section);
        services.AddSingleton<AdminToken>();
        services.AddSingleton<AdminAccounts>();
        services.AddHostedService<FirstAdminInitializer>();
        DataProtectionSecrets.AddFlareDataProtection(builder);

        var admin = builder.Configuration.GetSection(AdminOptions.Section).Get<AdminOptions>() ?? new AdminOptions();
        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "Flare administrator", o => o.ForwardDefaultSelector = SelectScheme)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.Cookie.Name = ".Flare.Admin";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = LoginPath;
                o.LogoutPath = LogoutPath;
                o.AccessDeniedPath = LoginPath;
                o.ExpireTimeSpan = TimeSpan.FromHours(admin.SessionHours);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = RedirectOrUnauthorized;
                o.Events.OnRedirectToAccessDenied = RedirectOrUnauthorized;
            })
            .AddScheme<AuthenticationSchemeOptions, AdminTokenHandler>(AdminTokenHandler.SchemeName, null);

        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(AdminRole))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(AdminRole).Build());
        services.AddCascadingAuthenticationState();

        // Bounds on what a client may send before any endpoint sees it; /v1 and imports set their own body limits.
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestHeaderCount = 100;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Limits.MaxRequestLineSize = 16 * 1024;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
            k.Limits.MaxRequestBodySize = 32 * 1024 * 1024;
        });
    }

    /// <summary>Security headers, then authentication and authorization. Call before antiforgery and the endpoints.</summary>
    public static void UseFlareSecurity(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeaders>();
        app.UseAuthentication();
        app.UseAuthorization();
    }

    /// <summary>Sign-out (a form post with an antiforgery token) and the endpoints that must stay open.</summary>
    public static void MapFlareAccount(this WebApplication app)
    {
        app.MapPost(LogoutPath, async (HttpContext http, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The sign-out form has expired; reload the page and try again.");
            }

            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect(LoginPath);
        }).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
    }

    /// <summary>The bearer token of the request, if it has one.</summary>
    public static bool TryGetBearer(HttpRequest request, out ReadOnlySpan<char> token)
    {
        token = default;
        var header = request.Headers.Authorization;
        if (header.Count != 1 || header[0] is not { } value || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        token = value.AsSpan(7).Trim();
        return !token.IsEmpty;
    }

    /// <summary>A bearer token on <c>/api</c>, its OpenAPI document or <c>/jobs</c> is the admin token; elsewhere (<c>/v1</c>'s API keys) it is not looked at.</summary>
    private static string SelectScheme(HttpContext http)
    {
        var path = http.Request.Path;
        return (path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi") || path.StartsWithSegments(JobsHosting.DashboardPath)) && TryGetBearer(http.Request, out _)
            ? AdminTokenHandler.SchemeName
            : CookieAuthenticationDefaults.AuthenticationScheme;
    }

    /// <summary>Browsers go to the sign-in page; <c>/api</c> callers get 401 as ProblemDetails.</summary>
    private static async Task RedirectOrUnauthorized(RedirectContext<CookieAuthenticationOptions> context)
    {
        var http = context.HttpContext;
        if (http.Request.Path.StartsWithSegments("/api"))
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Sign in as an administrator, or send Flare's admin token as a bearer token.",
                type: "https://tools.ietf.org/html/rfc9110#section-15.5.2").ExecuteAsync(http);
            return;
        }

        http.Response.Redirect(context.RedirectUri);
    }
}
