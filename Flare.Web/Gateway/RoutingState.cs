using System.Collections.Concurrent;
using Flare.Data;
using Flare.Data.Gateway;
using Flare.Data.Registry;
using Flare.Routing.Routing;
using Microsoft.EntityFrameworkCore;

namespace Flare.Web.Gateway;

/// <summary>
/// The data plane's view of the fleet: the current immutable <see cref="RoutingSnapshot"/> (swapped
/// atomically on every registry change), each deployment's live state, the routing policies by name, and the
/// routing plans (<see cref="PlanBook"/>, swapped atomically when a plan is activated or computed).
/// </summary>
public sealed class RoutingState(IEnumerable<IRoutingPolicy> policies)
{
    private readonly ConcurrentDictionary<int, DeploymentState> _states = new();
    private readonly Dictionary<string, IRoutingPolicy> _policies = policies.ToDictionary(p => p.Name, StringComparer.Ordinal);
    private RoutingSnapshot _snapshot = RoutingSnapshot.Empty;
    private PlanBook _plans = PlanBook.Default;

    public RoutingSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>The policy of requests that name a registered model: least outstanding among its deployments.</summary>
    public IRoutingPolicy DefaultPolicy => _policies[LeastOutstandingPolicy.PolicyName];

    /// <summary>The plans requests that name a router or a policy route by; one volatile read per request.</summary>
    public PlanBook Plans => Volatile.Read(ref _plans);

    /// <summary>Makes <paramref name="plans"/> the ones requests route by, in one write: a request uses the plan it read
    /// first to the end, so a switch never fails one.</summary>
    public void PublishPlans(PlanBook plans) => Volatile.Write(ref _plans, plans);

    public IRoutingPolicy? Policy(string name) => _policies.GetValueOrDefault(name);

    public DeploymentState State(int deploymentId) => _states.GetOrAdd(deploymentId, static _ => new DeploymentState());

    public void Publish(RoutingSnapshot snapshot)
    {
        Volatile.Write(ref _snapshot, snapshot);
        foreach (var id in _states.Keys)
        {
            if (!snapshot.Deployments.Any(d => d.Id == id) && _states.TryGetValue(id, out var s) && s.InFlight == 0)
            {
                _states.TryRemove(id, out _);
            }
        }
    }
}

/// <summary>Loads the snapshot at start and again after every registry change, off the request path.</summary>
internal sealed partial class RoutingSnapshotRefresher(
    IDbContextFactory<FlareDbContext> dbFactory,
    RegistryChangeSignal changes,
    RoutingState state,
    ILogger<RoutingSnapshotRefresher> log) : BackgroundService
{
    private readonly SemaphoreSlim _dirty = new(0, 1);

    public override async Task StartAsync(CancellationToken ct)
    {
        changes.Changed += MarkDirty;
        await RefreshAsync(ct);
        await base.StartAsync(ct);
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        changes.Changed -= MarkDirty;
        await base.StopAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _dirty.WaitAsync(ct);
                await RefreshAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRefreshFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                MarkDirty();
            }
        }
    }

    private void MarkDirty()
    {
        try
        {
            _dirty.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already pending; it will read this change too.
        }
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        var revision = changes.Version;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var snapshot = await RoutingSnapshotLoader.LoadAsync(db, revision, ct);
        state.Publish(snapshot);
        LogPublished(snapshot.Revision, snapshot.Deployments.Count);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Routing snapshot {Revision} published with {Count} deployments")]
    private partial void LogPublished(long revision, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not refresh the routing snapshot; the previous one stays in use")]
    private partial void LogRefreshFailed(Exception ex);
}
