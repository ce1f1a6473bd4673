using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Flare.Web.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Flare.Web.Security;

/// <summary>
/// The admin token from configuration (<c>Flare:AdminToken</c>), kept only as its SHA-256, and the check
/// of a presented token against it in constant time.
/// </summary>
public sealed class AdminToken
{
    private readonly byte[]? _hash;

    public AdminToken(IOptions<FlareOptions> options)
    {
        var token = options.Value.AdminToken;
        _hash = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    public bool IsConfigured => _hash is not null;

    public bool Matches(ReadOnlySpan<char> presented)
    {
        if (_hash is null)
        {
            return false;
        }

        // Encoded straight from the span: no copy of the presented token is left behind in a char array.
        var bytes = new byte[Encoding.UTF8.GetByteCount(presented)];
        Encoding.UTF8.GetBytes(presented, bytes);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        CryptographicOperations.ZeroMemory(bytes);
        return CryptographicOperations.FixedTimeEquals(hash, _hash);
    }
}

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;admin token&gt;</c> as the administrator, for automation
/// against <c>/api</c>. Answers "no result" when there is no bearer token, so the cookie can decide.
/// </summary>
public sealed class AdminTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminToken token) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!FlareAuth.TryGetBearer(Request, out var presented))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!token.Matches(presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("The bearer token is not Flare's admin token."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin-token"), new Claim(ClaimTypes.Role, FlareAuth.AdminRole)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        await Results.Problem(statusCode: StatusCodes.Status401Unauthorized,
            title: token.IsConfigured ? "The bearer token is not Flare's admin token." : "No admin token is configured (Flare:AdminToken); sign in instead.",
            type: "https://tools.ietf.org/html/rfc9110#section-15.5.2").ExecuteAsync(Context);
    }
}
