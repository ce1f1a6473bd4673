using System.Text.Json;
using System.Threading.Channels;
using Flare.Data.Gateway;
using Flare.Data.History;
using Flare.Data.Plans;
using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Web.Gateway;
using Npgsql;

namespace Flare.Web.Hosting;

/// <summary>
/// Carries change signals between Flare hosts that share a PostgreSQL database, with LISTEN/NOTIFY on one channel: each
/// local signal (registry, API keys, routing plans, profiles, routing history, deployment health news) is sent as a notification, and a
/// notification from another host raises the same signal here, so that host's routing snapshot, live plan, profiles and
/// pages follow as if the edit had been made locally. PostgreSQL delivers a notification to every listener when its
/// transaction commits — milliseconds on a LAN, which is why this and not polling. A host that loses its listening
/// connection reconnects and raises every signal once, so nothing missed while it was away stays stale.
/// </summary>
internal sealed partial class PostgresChangeRelay : BackgroundService
{
    public const string ChannelName = "flare_changes";

    [ThreadStatic]
    private static bool t_relaying;

    private readonly string _connectionString;
    private readonly RegistryChangeSignal _registry;
    private readonly ApiKeyChangeSignal _keys;
    private readonly PlanChangeSignal _plans;
    private readonly ProfilingChangeSignal _profiling;
    private readonly HistoryChangeSignal _history;
    private readonly DeploymentHealthSignal _health;
    private readonly ILogger<PostgresChangeRelay> _log;
    private readonly string _host = Guid.NewGuid().ToString("N")[..12];
    private readonly Channel<string> _outgoing = Channel.CreateBounded<string>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

    public PostgresChangeRelay(
        IConfiguration configuration, RegistryChangeSignal registry, ApiKeyChangeSignal keys, PlanChangeSignal plans,
        ProfilingChangeSignal profiling, HistoryChangeSignal history, DeploymentHealthSignal health, ILogger<PostgresChangeRelay> log)
    {
        _connectionString = FlareHost.PostgresConnectionString(configuration);
        (_registry, _keys, _plans, _profiling, _history, _health, _log) = (registry, keys, plans, profiling, history, health, log);
        registry.Changed += () => Send("registry", null);
        keys.Changed += () => Send("keys", null);
        plans.Changed += () => Send("plans", null);
        profiling.Changed += c => Send("profiling", JsonSerializer.Serialize(c));
        history.Changed += c => Send("history", JsonSerializer.Serialize(c));
        health.Changed += c => Send("health", JsonSerializer.Serialize(c));
    }

    /// <summary>Notifications this host received from others.</summary>
    public long Received => Interlocked.Read(ref _received);

    private long _received;

    private void Send(string kind, string? payload)
    {
        if (!t_relaying)
        {
            _outgoing.Writer.TryWrite($"{_host}|{kind}|{payload}");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var sender = SendLoopAsync(ct);
        var first = true;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, e) => Receive(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                if (!first)
                {
                    LogReconnected();
                    RaiseAll();
                }

                first = false;
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogListenFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await sender.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        await foreach (var message in _outgoing.Reader.ReadAllAsync(ct))
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(ct);
                await using var notify = new NpgsqlCommand($"SELECT pg_notify('{ChannelName}', @payload)", connection);
                notify.Parameters.AddWithValue("payload", message);
                await notify.ExecuteNonQueryAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The other hosts miss this one; their next reconnect or the next change brings them up to date.
                LogNotifyFailed(ex);
            }
        }
    }

    private void Receive(string payload)
    {
        var parts = payload.Split('|', 3);
        if (parts.Length < 3 || parts[0] == _host)
        {
            return;
        }

        Interlocked.Increment(ref _received);
        t_relaying = true;
        try
        {
            switch (parts[1])
            {
                case "registry": _registry.Raise(); break;
                case "keys": _keys.Raise(); break;
                case "plans": _plans.Raise(); break;
                case "profiling" when JsonSerializer.Deserialize<ProfilingChange>(parts[2]) is { } change: _profiling.Raise(change); break;
                case "history" when JsonSerializer.Deserialize<HistoryChange>(parts[2]) is { } change: _history.Raise(change); break;
                case "health" when JsonSerializer.Deserialize<HealthChange>(parts[2]) is { } change: _health.Raise(change with { Relayed = true }); break;
            }
        }
        catch (Exception ex)
        {
            LogRelayFailed(ex, parts[1]);
        }
        finally
        {
            t_relaying = false;
        }
    }

    private void RaiseAll()
    {
        t_relaying = true;
        try
        {
            _registry.Raise();
            _keys.Raise();
            _plans.Raise();
        }
        finally
        {
            t_relaying = false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for other Flare hosts' changes failed; retrying in 1 s")]
    private partial void LogListenFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for other Flare hosts' changes again; reloaded the registry, keys and plans")]
    private partial void LogReconnected();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell the other Flare hosts about a change")]
    private partial void LogNotifyFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying another host's '{Kind}' change here failed")]
    private partial void LogRelayFailed(Exception ex, string kind);
}
