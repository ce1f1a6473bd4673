using System.Security.Cryptography;
using System.Text;
using Flare.Data.Registry;
using Microsoft.EntityFrameworkCore;

namespace Flare.Data.Gateway;

/// <summary>An API key as the UI and <c>/api</c> show it: never the key itself.</summary>
public sealed record ApiKeyView(int Id, string Name, string Prefix, int? RequestsPerMinute, int? TokensPerMinute, DateTime CreatedUtc, DateTime? RevokedUtc)
{
    public bool Revoked => RevokedUtc is not null;
}

/// <summary>A key just created: the only time its secret exists outside the client's hands.</summary>
public sealed record CreatedApiKey(ApiKeyView Key, string Secret);

/// <summary>Creates, lists and revokes client API keys; raises <see cref="ApiKeyChangeSignal"/> on every change.</summary>
public sealed class ApiKeyStore(IDbContextFactory<FlareDbContext> dbFactory, ApiKeyChangeSignal changes, TimeProvider time)
{
    public const string SecretPrefix = "sk-flare-";

    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ApiKeys.AsNoTracking().OrderBy(k => k.RevokedUtc != null).ThenBy(k => k.Name).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    public async Task<Outcome<CreatedApiKey>> CreateAsync(string name, int? requestsPerMinute, int? tokensPerMinute, CancellationToken ct = default)
    {
        var errors = new Flare.Routing.Registry.FieldErrors();
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            errors.Add("Name", "Name is required (at most 100 characters).");
        }

        if (requestsPerMinute is < 1)
        {
            errors.Add("RequestsPerMinute", "Requests per minute must be at least 1, or empty for no limit.");
        }

        if (tokensPerMinute is < 1)
        {
            errors.Add("TokensPerMinute", "Tokens per minute must be at least 1, or empty for no limit.");
        }

        if (!errors.IsEmpty)
        {
            return Outcome<CreatedApiKey>.Invalid(errors);
        }

        var secret = NewSecret();
        var row = await AddAsync(name.Trim(), secret, requestsPerMinute, tokensPerMinute, ct);
        return Outcome<CreatedApiKey>.Ok(new CreatedApiKey(ToView(row), secret));
    }

    /// <summary>Makes sure a key given in configuration exists (by its hash); a no-op when it already does.</summary>
    public async Task<bool> EnsureAsync(string name, string secret, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var hash = Hash(secret);
        if (await db.ApiKeys.AnyAsync(k => k.KeyHash == hash, ct))
        {
            return false;
        }

        await AddAsync(name, secret, null, null, ct);
        return true;
    }

    public async Task<bool> AnyAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.AnyAsync(ct);
    }

    public async Task<Outcome<ApiKeyView>> RevokeAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id, ct);
        if (row is null)
        {
            return Outcome<ApiKeyView>.NotFound($"API key {id} does not exist.");
        }

        row.RevokedUtc ??= time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        changes.Raise();
        return Outcome<ApiKeyView>.Ok(ToView(row));
    }

    /// <summary>Revokes every active key with this name; returns how many.</summary>
    public async Task<int> RevokeByNameAsync(string name, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ApiKeys.Where(k => k.Name == name && k.RevokedUtc == null).ToListAsync(ct);
        foreach (var row in rows)
        {
            row.RevokedUtc = time.GetUtcNow().UtcDateTime;
        }

        await db.SaveChangesAsync(ct);
        if (rows.Count > 0)
        {
            changes.Raise();
        }

        return rows.Count;
    }

    /// <summary>Every key that is not revoked, by hash: what the request path checks against.</summary>
    public async Task<IReadOnlyList<ApiKeyEntity>> ActiveKeysAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApiKeys.AsNoTracking().Where(k => k.RevokedUtc == null).ToListAsync(ct);
    }

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private async Task<ApiKeyEntity> AddAsync(string name, string secret, int? rpm, int? tpm, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = new ApiKeyEntity
        {
            Name = name,
            Prefix = secret[..Math.Min(secret.Length, 13)],
            KeyHash = Hash(secret),
            RequestsPerMinute = rpm,
            TokensPerMinute = tpm,
            CreatedUtc = time.GetUtcNow().UtcDateTime,
        };
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(ct);
        changes.Raise();
        return row;
    }

    private static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ApiKeyView ToView(ApiKeyEntity k) =>
        new(k.Id, k.Name, k.Prefix, k.RequestsPerMinute, k.TokensPerMinute, k.CreatedUtc, k.RevokedUtc);
}

/// <summary>Raised after every committed API key change so the request path reloads its key table.</summary>
public sealed class ApiKeyChangeSignal
{
    public event Action? Changed;

    public void Raise() => Changed?.Invoke();
}
