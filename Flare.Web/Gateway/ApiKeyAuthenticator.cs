using System.Collections.Frozen;
using Flare.Data.Gateway;

namespace Flare.Web.Gateway;

/// <summary>
/// Checks <c>/v1</c> API keys against an in-memory table of SHA-256 hashes (reloaded whenever a key is
/// created or revoked), and enforces each key's request and token rate limits.
/// </summary>
public sealed class ApiKeyAuthenticator
{
    private readonly ApiKeyStore _store;
    private readonly TimeProvider _time;
    private FrozenDictionary<string, KeyLimits> _keys = FrozenDictionary<string, KeyLimits>.Empty;

    public ApiKeyAuthenticator(ApiKeyStore store, ApiKeyChangeSignal changes, TimeProvider time)
    {
        _store = store;
        _time = time;
        changes.Changed += () => _ = ReloadAsync(CancellationToken.None);
    }

    public async Task ReloadAsync(CancellationToken ct)
    {
        var rows = await _store.ActiveKeysAsync(ct);
        var previous = Volatile.Read(ref _keys);
        var next = rows.ToFrozenDictionary(
            r => r.KeyHash,
            r => previous.TryGetValue(r.KeyHash, out var kept) && kept.SameLimits(r.RequestsPerMinute, r.TokensPerMinute)
                ? kept
                : new KeyLimits(r.Id, r.RequestsPerMinute, r.TokensPerMinute),
            StringComparer.Ordinal);
        Volatile.Write(ref _keys, next);
    }

    /// <summary>The key's limits, or null when the request carries no valid key.</summary>
    public KeyLimits? Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        string? secret = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            secret = header[7..].Trim();
        }
        else if (request.Headers.TryGetValue("api-key", out var apiKey))
        {
            secret = apiKey.ToString().Trim();
        }

        if (string.IsNullOrEmpty(secret) || secret.Length > 200)
        {
            return null;
        }

        return Volatile.Read(ref _keys).GetValueOrDefault(ApiKeyStore.Hash(secret));
    }

    public DateTimeOffset Now => _time.GetUtcNow();
}

/// <summary>
/// One key's limits as token buckets that refill continuously (limit per minute / 60 per second, at most
/// one minute's worth). Requests take one request token up front; tokens are charged after the
/// response, when usage is known, so a long answer can take the bucket below zero and the key waits.
/// </summary>
public sealed class KeyLimits(int keyId, int? requestsPerMinute, int? tokensPerMinute)
{
    private readonly Lock _lock = new();
    private double _requestTokens = requestsPerMinute ?? 0;
    private double _tokenTokens = tokensPerMinute ?? 0;
    private DateTimeOffset _last = DateTimeOffset.MinValue;

    public int KeyId { get; } = keyId;

    public bool SameLimits(int? rpm, int? tpm) => rpm == requestsPerMinute && tpm == tokensPerMinute;

    /// <summary>Admits one request, or says how long to wait.</summary>
    public bool TryAdmit(DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (requestsPerMinute is null && tokensPerMinute is null)
        {
            return true;
        }

        lock (_lock)
        {
            Refill(now);
            if (requestsPerMinute is { } rpm && _requestTokens < 1)
            {
                retryAfter = TimeSpan.FromSeconds((1 - _requestTokens) * 60.0 / rpm);
                return false;
            }

            if (tokensPerMinute is { } tpm && _tokenTokens <= 0)
            {
                retryAfter = TimeSpan.FromSeconds((1 - _tokenTokens) * 60.0 / tpm);
                return false;
            }

            if (requestsPerMinute is not null)
            {
                _requestTokens -= 1;
            }

            return true;
        }
    }

    /// <summary>Charges the tokens a finished request used.</summary>
    public void Charge(DateTimeOffset now, int tokens)
    {
        if (tokensPerMinute is null || tokens <= 0)
        {
            return;
        }

        lock (_lock)
        {
            Refill(now);
            _tokenTokens -= tokens;
        }
    }

    private void Refill(DateTimeOffset now)
    {
        if (_last == DateTimeOffset.MinValue)
        {
            _last = now;
            return;
        }

        var seconds = Math.Max(0, (now - _last).TotalSeconds);
        _last = now;
        if (requestsPerMinute is { } rpm)
        {
            _requestTokens = Math.Min(rpm, _requestTokens + seconds * rpm / 60.0);
        }

        if (tokensPerMinute is { } tpm)
        {
            _tokenTokens = Math.Min(tpm, _tokenTokens + seconds * tpm / 60.0);
        }
    }
}
