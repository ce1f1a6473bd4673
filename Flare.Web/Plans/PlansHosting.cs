using Flare.Data.Plans;

namespace Flare.Web.Plans;

public static class PlansHosting
{
    /// <summary>
    /// Routing plans: the computation job, the service the UI and <c>/api/plans</c> use, and the publisher that keeps the
    /// data plane's plans. At start the last activation is loaded and plans a restart left computing are queued again.
    /// </summary>
    public static void AddFlarePlans(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LivePlanPublisher>();
        builder.Services.AddSingleton<PlanComputer>();
        builder.Services.AddSingleton<PlanService>();
        builder.Services.AddSingleton<ExplorerPlans>();
        builder.Services.AddSingleton<Explorer.IOperatingPointApplier>(sp => sp.GetRequiredService<ExplorerPlans>());
        builder.Services.AddSingleton<Explorer.ILiveOperatingPoint>(sp => sp.GetRequiredService<ExplorerPlans>());
        builder.Services.AddTransient<PlanJob>();
        builder.Services.AddHostedService<PlanStartup>();
    }
}

/// <summary>Runs after the database is migrated (hosted services start in registration order), before requests are served.</summary>
internal sealed partial class PlanStartup(PlanStore store, PlanService service, LivePlanPublisher publisher, ILogger<PlanStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await publisher.StartAsync(ct);
        foreach (var id in await store.ListComputingAsync(ct))
        {
            service.Enqueue(id);
            LogRequeued(id);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Routing plan {PlanId} was still computing at the last shutdown; queued again")]
    private partial void LogRequeued(long planId);
}
