using System.Collections.Frozen;
using Flare.Data.Gateway;
using Flare.Routing.Routing;

namespace Flare.Web.Gateway;

/// <summary>
/// Checks <c>/v1</c> API keys against an in-memory table of SHA-256 hashes (reloaded whenever a key is
/// created or revoked), and enforces each key's request and token rate limits — across every host sharing the
/// <see cref="ISharedLedger"/> when there is one (PostgreSQL), see <see cref="KeyLimits"/>.
/// </summary>
public sealed class ApiKeyAuthenticator
{
    private readonly ApiKeyStore _store;
    private readonly TimeProvider _time;
    private readonly ISharedLedger? _ledger;
    private FrozenDictionary<string, KeyLimits> _keys = FrozenDictionary<string, KeyLimits>.Empty;

    /// <param name="ledger">Where hosts sharing the fleet pool what each key took (null: this host alone).</param>
    public ApiKeyAuthenticator(ApiKeyStore store, ApiKeyChangeSignal changes, TimeProvider time, ISharedLedger? ledger = null)
    {
        _store = store;
        _time = time;
        _ledger = ledger;
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
                : new KeyLimits(r.Id, r.RequestsPerMinute, r.TokensPerMinute, _ledger),
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
/// <remarks>
/// With a shared ledger (several hosts on PostgreSQL) each host's buckets are replicas of the key's one bucket: they refill
/// at the key's rate once, and lose what every host takes — this host's at once, the others' when an exchange brings it
/// (<see cref="SharedBucketUse"/>). A key's limit is therefore exceeded by at most what the other hosts admitted that this
/// host has not heard of yet: (N − 1) × (their admission rate for the key) × 2 × (exchange interval + exchange), the bound
/// of PORT's shared budgets (see <c>PostgresLedger</c>); at 100 admitted requests/s per host, 25 ms and a 10 ms exchange,
/// 7 requests on 2 hosts. A host that serves a key for the first time in a minute or more (or has just started) admits on
/// its own bucket until its first exchange of the key, then counts the others' use of the last one to two minutes
/// against it without the refill that came with it — erring on refusing, but never taking the bucket below empty for it.
/// </remarks>
public sealed class KeyLimits(int keyId, int? requestsPerMinute, int? tokensPerMinute, ISharedLedger? ledger = null)
{
    private readonly Lock _lock = new();
    private readonly SharedBucketUse? _sharedRequests =
        ledger is not null && requestsPerMinute is not null ? new SharedBucketUse(ledger, $"key:{keyId}:requests") : null;
    private readonly SharedBucketUse? _sharedTokens =
        ledger is not null && tokensPerMinute is not null ? new SharedBucketUse(ledger, $"key:{keyId}:tokens") : null;
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
                _sharedRequests?.Add(now, 1);
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
            _sharedTokens?.Add(now, tokens);
        }
    }

    private void Refill(DateTimeOffset now)
    {
        RefillOwn(now);
        if (_sharedRequests is not null)
        {
            _requestTokens = _sharedRequests.Absorb(now, _requestTokens);
        }

        if (_sharedTokens is not null)
        {
            _tokenTokens = _sharedTokens.Absorb(now, _tokenTokens);
        }
    }

    private void RefillOwn(DateTimeOffset now)
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
