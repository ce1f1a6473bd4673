using System.Collections.Concurrent;
using Flare.Routing.Routing;
using Microsoft.Extensions.Options;

namespace Flare.Web.Gateway;

/// <summary>
/// Active health checks: probes deployments that passive health took out, and brings them back when they answer.
/// </summary>
/// <remarks>
/// Passive ejection stays each host's own (a host takes a deployment out after its own failures). Probing is done by one
/// host for all (<see cref="IProbeLeadership"/>): every interval, the hosts that do not probe announce the deployments
/// they have taken out (<see cref="DeploymentHealthSignal"/>); the probing host probes those as well as its own, on the
/// same schedule (<see cref="GatewayOptions.EjectSeconds"/> after the ejection, then after each failed probe), and
/// announces a deployment that answered, which every host then takes back in. Announcing every interval, not once, is what
/// lets a host that takes over probing after another stopped know at once what is out, and what makes a lost notification
/// harmless. On a single host, it probes its own and nothing is announced to anyone.
/// </remarks>
internal sealed partial class HealthProber(
    RoutingState routing,
    UpstreamClientPool clients,
    IProbeLeadership leadership,
    DeploymentHealthSignal news,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<HealthProber> log) : BackgroundService
{
    private readonly ConcurrentDictionary<int, OutElsewhere> _elsewhere = new();
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(options.Value.ProbeIntervalSeconds);
    private long _probes;

    /// <summary>Probes this host has sent.</summary>
    public long ProbesSent => Interlocked.Read(ref _probes);

    /// <summary>An announcement older than this means its host no longer has the deployment out (or is gone).</summary>
    private TimeSpan Forgotten => TimeSpan.FromTicks(Math.Max(3 * _interval.Ticks, TimeSpan.FromSeconds(1).Ticks));

    public override Task StartAsync(CancellationToken ct)
    {
        news.Changed += OnNews;
        return base.StartAsync(ct);
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        news.Changed -= OnNews;
        await base.StopAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_interval, time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            var now = time.GetUtcNow();
            var probing = leadership.IsLeader;
            foreach (var target in routing.Snapshot.Deployments)
            {
                var state = routing.State(target.Id);
                if (!probing)
                {
                    if (state.IsEjected)
                    {
                        news.Raise(new HealthChange(target.Id, HealthNews.Ejected, state.ProbeAfter));
                    }

                    continue;
                }

                var dueHere = state.IsEjected && state.ProbeAfter <= now;
                var dueElsewhere = _elsewhere.TryGetValue(target.Id, out var elsewhere) && elsewhere.ProbeAfter <= now && now - elsewhere.Heard < Forgotten;
                if (dueHere || dueElsewhere)
                {
                    await ProbeAsync(target, state, ct);
                }
            }

            foreach (var (id, elsewhere) in _elsewhere)
            {
                if (now - elsewhere.Heard >= Forgotten)
                {
                    _elsewhere.TryRemove(id, out _);
                }
            }
        }
    }

    private async Task ProbeAsync(DeploymentTarget target, DeploymentState state, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target.BaseUrl + "/models");
        if (target.ApiKey is not null)
        {
            request.Headers.Authorization = new("Bearer", target.ApiKey);
        }

        Interlocked.Increment(ref _probes);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await clients.Get(target).SendAsync(request, timeout.Token);
            if ((int)response.StatusCode < 500)
            {
                if (state.IsEjected)
                {
                    state.Restore();
                }

                _elsewhere.TryRemove(target.Id, out _);
                news.Raise(new HealthChange(target.Id, HealthNews.Restored, default));
                LogRestored(target.Name);
                return;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            // Still down.
        }

        var wait = TimeSpan.FromSeconds(options.Value.EjectSeconds);
        var next = time.GetUtcNow() + wait;
        if (state.IsEjected)
        {
            state.ProbeFailed(time.GetUtcNow(), wait);
        }

        if (_elsewhere.TryGetValue(target.Id, out var elsewhere))
        {
            _elsewhere.TryUpdate(target.Id, elsewhere with { ProbeAfter = next }, elsewhere);
        }
    }

    private void OnNews(HealthChange change)
    {
        if (!change.Relayed)
        {
            return;
        }

        switch (change.News)
        {
            case HealthNews.Ejected:
                // The first announcement sets when to probe; later ones only say it is still out there, so the probing
                // host's own schedule (pushed back by each failed probe) stands.
                var heard = time.GetUtcNow();
                _elsewhere.AddOrUpdate(change.DeploymentId, _ => new OutElsewhere(change.ProbeAfter, heard), (_, old) => old with { Heard = heard });
                break;
            case HealthNews.Restored:
                _elsewhere.TryRemove(change.DeploymentId, out _);
                var state = routing.State(change.DeploymentId);
                if (state.IsEjected)
                {
                    state.Restore();
                    LogRestoredElsewhere(change.DeploymentId);
                }

                break;
        }
    }

    /// <summary>A deployment another host has out: when to probe it next, and when that host last said so.</summary>
    private readonly record struct OutElsewhere(DateTimeOffset ProbeAfter, DateTimeOffset Heard);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {Deployment} answered its health probe and is back in")]
    private partial void LogRestored(string deployment);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {DeploymentId} answered another host's health probe and is back in")]
    private partial void LogRestoredElsewhere(int deploymentId);
}
