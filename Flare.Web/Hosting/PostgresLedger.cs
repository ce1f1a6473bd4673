using System.Collections.Concurrent;
using Flare.Routing.Routing;
using Npgsql;

namespace Flare.Web.Hosting;

/// <summary>
/// The shared ledger of hosts on one PostgreSQL database (table <c>SharedCounters</c>), holding PORT's budgets and the API
/// keys' rate limits: every <see cref="ExchangeInterval"/> each host adds what it spent since the last exchange to each
/// counter it uses and reads the totals back, in one statement. Reads and adds on the request path touch memory only.
/// </summary>
/// <remarks>
/// The bound: a host admits against the others' spending as of its last exchange, and another host's spending reaches
/// the table only at that host's next exchange, so what a host cannot see is what each of the other N − 1 hosts spent in
/// up to two intervals and two exchanges (one for the other to write it, one for this host to read it; an exchange takes
/// <see cref="LongestExchange"/>, milliseconds on a LAN). A shared budget is therefore exceeded by at most
/// (N − 1) × (one host's spending rate) × 2 × (<see cref="ExchangeInterval"/> + exchange) — at 100 requests/s per host,
/// $0.001 a request and a 10 ms exchange, 2 hosts overshoot by at most about $0.007 — on top of what any single host
/// allows (the estimation error of requests already admitted, see PORT's policy).
/// </remarks>
internal sealed partial class PostgresLedger(IConfiguration configuration, ILogger<PostgresLedger> log) : BackgroundService, ISharedLedger
{
    /// <summary>How often the hosts exchange their spending: one small statement per host per interval buys an overshoot
    /// of one interval's spending (40 statements a second per host is nothing to PostgreSQL).</summary>
    public static readonly TimeSpan ExchangeInterval = TimeSpan.FromMilliseconds(25);

    private readonly string _connectionString = FlareHost.PostgresConnectionString(configuration);
    private readonly ConcurrentDictionary<(string Key, long Period), Counter> _counters = new();

    public double Others(string key, long period) =>
        _counters.TryGetValue((key, period), out var c) ? c.Others : 0;

    public bool TryGetOthers(string key, long period, out double others)
    {
        others = 0;
        return _counters.TryGetValue((key, period), out var c) && c.TryGetOthers(out others);
    }

    public void Add(string key, long period, double delta) =>
        _counters.GetOrAdd((key, period), _ => new Counter()).Add(delta);

    /// <summary>The longest exchange so far: with <see cref="ExchangeInterval"/>, how stale the others' figure can be.</summary>
    public TimeSpan LongestExchange => TimeSpan.FromTicks(Interlocked.Read(ref _longestExchangeTicks));

    private long _longestExchangeTicks;

    /// <summary>Exchanges now (tests; the loop does it every interval).</summary>
    public async Task ExchangeAsync(CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ExchangeOnceAsync(ct);
        var took = System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks;
        long longest;
        while (took > (longest = Interlocked.Read(ref _longestExchangeTicks)) && Interlocked.CompareExchange(ref _longestExchangeTicks, took, longest) != longest)
        {
        }
    }

    private async Task ExchangeOnceAsync(CancellationToken ct)
    {
        var live = _counters.ToArray();
        if (live.Length == 0)
        {
            return;
        }

        var pending = live.Select(c => c.Value.TakePending()).ToArray();
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(ct);
            // Counters with something to add are upserted; the others (a host watching what the others spend) only read,
            // so an idle counter costs an index lookup, not a row version, and "UpdatedUtc" is the time of the last add.
            await using var exchange = new NpgsqlCommand(
                """
                WITH t AS (SELECT * FROM unnest(@keys, @periods, @values) AS t(k, p, v)),
                added AS (
                    INSERT INTO "SharedCounters" ("Key", "Period", "Value", "UpdatedUtc")
                    SELECT k, p, v, now() FROM t WHERE v <> 0
                    ON CONFLICT ("Key", "Period") DO UPDATE SET "Value" = "SharedCounters"."Value" + EXCLUDED."Value", "UpdatedUtc" = now()
                    RETURNING "Key", "Period", "Value")
                SELECT "Key", "Period", "Value" FROM added
                UNION ALL
                SELECT c."Key", c."Period", c."Value" FROM "SharedCounters" c JOIN t ON c."Key" = t.k AND c."Period" = t.p WHERE t.v = 0
                """, connection);
            exchange.Parameters.AddWithValue("keys", live.Select(c => c.Key.Key).ToArray());
            exchange.Parameters.AddWithValue("periods", live.Select(c => c.Key.Period).ToArray());
            exchange.Parameters.AddWithValue("values", pending);
            await using var reader = await exchange.ExecuteReaderAsync(ct);
            var totals = new Dictionary<(string, long), double>();
            while (await reader.ReadAsync(ct))
            {
                totals[(reader.GetString(0), reader.GetInt64(1))] = reader.GetDouble(2);
            }

            for (var i = 0; i < live.Length; i++)
            {
                // No row yet: nobody has added to it.
                live[i].Value.Exchanged(pending[i], totals.GetValueOrDefault(live[i].Key));
            }
        }
        catch
        {
            // Not shared this time: keep it for the next exchange.
            for (var i = 0; i < live.Length; i++)
            {
                live[i].Value.Add(pending[i]);
            }

            throw;
        }

        // A key's periods only move forward and nobody reads further back than the previous one.
        foreach (var byKey in live.GroupBy(c => c.Key.Key))
        {
            var newest = byKey.Max(c => c.Key.Period);
            foreach (var old in byKey.Where(c => c.Key.Period < newest - 1))
            {
                _counters.TryRemove(old.Key, out _);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ExchangeInterval);
        var lastPrune = DateTime.UtcNow;
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
        {
            try
            {
                await ExchangeAsync(ct);
                if (DateTime.UtcNow - lastPrune > TimeSpan.FromMinutes(10))
                {
                    await PruneAsync(ct);
                    lastPrune = DateTime.UtcNow;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogExchangeFailed(ex);
            }
        }
    }

    /// <summary>Forgets counters nobody has added to for a day, here and in the table: the same rule on both sides, so a
    /// host does not forget (and later count as the others') what it added to a counter the others still add to.</summary>
    private async Task PruneAsync(CancellationToken ct)
    {
        foreach (var (key, counter) in _counters)
        {
            if (counter.IdleFor > TimeSpan.FromDays(1))
            {
                _counters.TryRemove(key, out _);
            }
        }

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(ct);
        await using var prune = new NpgsqlCommand("""DELETE FROM "SharedCounters" WHERE "UpdatedUtc" < now() - interval '1 day'""", connection);
        await prune.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One counter as this host sees it: what it has not shared yet, what it has, and the total at the last exchange.</summary>
    private sealed class Counter
    {
        private readonly Lock _lock = new();
        private double _pending;
        private double _mine;
        private double _total;
        private bool _known;
        private long _changed = Environment.TickCount64;

        /// <summary>The other hosts' part of the total at the last exchange.</summary>
        public double Others
        {
            get
            {
                lock (_lock)
                {
                    return Math.Max(0, _total - _mine);
                }
            }
        }

        /// <summary>How long since any host last added to it (this one directly, the others as seen in an exchange).</summary>
        public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _changed));

        public bool TryGetOthers(out double others)
        {
            lock (_lock)
            {
                others = Math.Max(0, _total - _mine);
                return _known;
            }
        }

        public void Add(double delta)
        {
            if (delta == 0)
            {
                // A watch: the counter exists, so the next exchange reads it.
                return;
            }

            lock (_lock)
            {
                _pending += delta;
            }

            Interlocked.Exchange(ref _changed, Environment.TickCount64);
        }

        public double TakePending()
        {
            lock (_lock)
            {
                var pending = _pending;
                _pending = 0;
                return pending;
            }
        }

        public void Exchanged(double shared, double total)
        {
            lock (_lock)
            {
                _mine += shared;
                if (total != _total)
                {
                    Interlocked.Exchange(ref _changed, Environment.TickCount64);
                }

                _total = total;
                _known = true;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not exchange shared budgets with the other Flare hosts; retrying at the next interval")]
    private partial void LogExchangeFailed(Exception ex);
}
