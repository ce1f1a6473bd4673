using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Routing.Profiles;

namespace Flare.Web.Profiling;

/// <summary>
/// Keeps the routing side's <see cref="ProfileSnapshot"/>: loads every deployment's active fit at start and again
/// whenever fits (or the registry) change, off the request path, and swaps the immutable snapshot in one write.
/// </summary>
public sealed partial class ProfileSnapshotPublisher(
    ProfilingStore store,
    ProfilingChangeSignal profiling,
    RegistryChangeSignal registry,
    ILogger<ProfileSnapshotPublisher> log) : IProfileSource, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ProfileSnapshot _current = ProfileSnapshot.Empty;
    private bool _subscribed;

    public ProfileSnapshot Current => Volatile.Read(ref _current);

    public event Action<ProfileSnapshot>? Published;

    /// <summary>Loads the snapshot and starts following changes.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (!_subscribed)
        {
            profiling.Changed += OnProfilingChanged;
            registry.Changed += OnRegistryChanged;
            _subscribed = true;
        }

        await RefreshAsync(ct);
    }

    private void OnProfilingChanged(ProfilingChange change)
    {
        if (change.FitsChanged)
        {
            _ = RefreshSafelyAsync();
        }
    }

    private void OnRegistryChanged() => _ = RefreshSafelyAsync();

    private async Task RefreshSafelyAsync()
    {
        try
        {
            await RefreshAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogRefreshFailed(ex);
        }
    }

    /// <summary>Reads the active fits and publishes them as a new revision.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        ProfileSnapshot next;
        try
        {
            var fits = await store.ListActiveFitsAsync(ct);
            var byDeployment = fits.ToDictionary(f => f.DeploymentId, f => new DeploymentProfile(f.DeploymentId, f.Version, f.Fit, f.CreatedUtc));
            next = new ProfileSnapshot(Current.Revision + 1, byDeployment);
            Volatile.Write(ref _current, next);
        }
        finally
        {
            _gate.Release();
        }

        Published?.Invoke(next);
    }

    public void Dispose()
    {
        profiling.Changed -= OnProfilingChanged;
        registry.Changed -= OnRegistryChanged;
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not republish the profile snapshot")]
    private partial void LogRefreshFailed(Exception ex);
}
