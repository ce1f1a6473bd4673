using Flare.Data.Profiling;
using Flare.Routing.Profiles;

namespace Flare.Web.Profiling;

public static class ProfilingHosting
{
    /// <summary>
    /// Profiling: the runner and its Hangfire job, the service the UI and <c>/api</c> use, and the profile snapshot
    /// the routing side reads (<see cref="IProfileSource"/>). At start, runs left queued or running by a previous
    /// process are marked interrupted and recurring schedules are registered again.
    /// </summary>
    public static void AddFlareProfiling(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProfilingOptions>()
            .BindConfiguration(ProfilingOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.DefaultSettings().Validate().IsEmpty, "Flare:Profiling's grid settings are invalid (lengths ≥ 8 input / ≥ 1 output tokens, concurrency 1–4096, positive rates).")
            .ValidateOnStart();
        // One log line per measured request would drown the log; the runner logs each run instead.
        builder.Logging.AddFilter("System.Net.Http.HttpClient." + ProfileRunner.HttpClientName, LogLevel.Warning);
        builder.Services.AddHttpClient(ProfileRunner.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = int.MaxValue,
            });
        builder.Services.AddSingleton<LiveRuns>();
        builder.Services.AddSingleton<ProfileFitting>();
        builder.Services.AddSingleton<ProfileRunner>();
        builder.Services.AddSingleton<ProfilingService>();
        builder.Services.AddTransient<ProfilingJob>();
        builder.Services.AddSingleton<ProfileSnapshotPublisher>();
        builder.Services.AddSingleton<IProfileSource>(sp => sp.GetRequiredService<ProfileSnapshotPublisher>());
        builder.Services.AddHostedService<ProfilingStartup>();
    }
}

/// <summary>Runs after the database is migrated (hosted services start in registration order).</summary>
internal sealed partial class ProfilingStartup(
    ProfilingStore store,
    ProfilingService service,
    ProfileSnapshotPublisher snapshot,
    ILogger<ProfilingStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var interrupted = await store.InterruptAbandonedRunsAsync(ct);
        if (interrupted > 0)
        {
            LogInterrupted(interrupted);
        }

        foreach (var schedule in await store.ListSchedulesAsync(ct))
        {
            try
            {
                service.Register(schedule);
            }
            catch (ArgumentException ex)
            {
                LogBadSchedule(ex, schedule.DeploymentId, schedule.Cron);
            }
        }

        await snapshot.StartAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} profiling run(s) were cut off by the last shutdown and are marked interrupted; resume them from the deployment's profile page")]
    private partial void LogInterrupted(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The profiling schedule of deployment {DeploymentId} ('{Cron}') could not be registered")]
    private partial void LogBadSchedule(Exception ex, int deploymentId, string cron);
}
