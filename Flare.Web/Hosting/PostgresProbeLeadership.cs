using Flare.Web.Gateway;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Flare.Web.Hosting;

/// <summary>
/// Which of the hosts sharing a PostgreSQL database sends the active health probes: the one holding the session advisory
/// lock <see cref="PostgresLocks.HealthProbes"/> on a connection of its own. The others try to take it every probe
/// interval, so when the probing host stops or dies — its session ends and PostgreSQL releases the lock — another takes
/// over within one interval (a host whose machine or network vanishes is noticed when PostgreSQL's TCP keepalive gives up
/// on its connection). The holder checks its connection every interval and stops probing as soon as it fails, so two hosts
/// probe together for at most one interval, and only while the lock changes hands. A host that cannot reach PostgreSQL at
/// all probes its own ejected deployments, as a host alone does: the others' news cannot reach it then, and a deployment it
/// took out would otherwise stay out until the database came back.
/// </summary>
/// <remarks>
/// Not a Hangfire recurring job: those are scheduled by cron, a minute at the finest, where probes run every few seconds;
/// and each tick would be a job queued, taken and recorded in the database, where a lock costs one statement per host per
/// interval.
/// </remarks>
internal sealed partial class PostgresProbeLeadership(
    IConfiguration configuration, IOptions<GatewayOptions> options, ILogger<PostgresProbeLeadership> log) : BackgroundService, IProbeLeadership
{
    private volatile bool _leader;
    private volatile bool _cutOff;

    public bool IsLeader => _leader || _cutOff;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(options.Value.ProbeIntervalSeconds);
        // Not pooled: closing the connection must end the session, and with it the lock.
        var connectionString = PostgresLocks.Unpooled(FlareHost.PostgresConnectionString(configuration));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
                take.Parameters.AddWithValue("key", PostgresLocks.HealthProbes);
                await using var check = new NpgsqlCommand("SELECT 1", connection);
                while (!ct.IsCancellationRequested)
                {
                    if (!_leader)
                    {
                        if ((bool)(await take.ExecuteScalarAsync(ct))!)
                        {
                            _leader = true;
                            LogLeading();
                        }
                    }
                    else
                    {
                        await check.ExecuteScalarAsync(ct);
                    }

                    _cutOff = false;

                    await Task.Delay(interval, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                var was = _leader;
                _leader = false;
                _cutOff = true;
                LogLost(ex, was);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        _leader = false;
        _cutOff = false;
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        // Stop probing before the lock goes, so that the next holder is never probing beside this host.
        _leader = false;
        _cutOff = false;
        await base.StopAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This host now sends the health probes for every host sharing the database")]
    private partial void LogLeading();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The health probes' lock connection failed (this host was probing for all: {WasProbing}); it probes its own until it is back, retrying in 1 s")]
    private partial void LogLost(Exception ex, bool wasProbing);
}
