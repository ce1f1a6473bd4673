using Flare.Data.History;
using Flare.Routing.Estimation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Flare.Web.History;

public static class HistoryHosting
{
    /// <summary>
    /// The routing history: uploads and their background imports, the live estimator the routing side reads
    /// (<see cref="IHistoryEstimatorSource"/>), and the recent-prompt memory <c>/v1/feedback</c> labels. At start, imports
    /// left running by a previous process are marked interrupted and their upload files removed.
    /// </summary>
    public static void AddFlareHistory(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<HistoryOptions>().BindConfiguration(HistoryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EstimatorSettings>()
            .BindConfiguration(EstimatorSettings.Section)
            .ValidateDataAnnotations()
            .Validate(o => string.IsNullOrWhiteSpace(o.OnnxModelPath) == string.IsNullOrWhiteSpace(o.OnnxVocabularyPath),
                "Flare:Estimator:OnnxModelPath and Flare:Estimator:OnnxVocabularyPath go together: set both to embed prompts with an ONNX model, or neither for the built-in embedder.")
            .ValidateOnStart();
        // One memory for the gateway (which remembers) and feedback (which reads), sized by Flare:History:RecentPrompts
        // whichever feature registered it first.
        services.Replace(ServiceDescriptor.Singleton(sp => new RecentPrompts(sp.GetRequiredService<IOptions<HistoryOptions>>().Value.RecentPrompts)));
        services.AddHostedService<HistoryStartup>();
        services.AddSingleton<HistoryIndexService>();
        services.AddSingleton<IHistoryEstimatorSource>(sp => sp.GetRequiredService<HistoryIndexService>());
        services.AddHostedService(sp => sp.GetRequiredService<HistoryIndexService>());
        services.AddSingleton<HistoryImports>();
        services.AddHostedService(sp => sp.GetRequiredService<HistoryImports>());
    }

    /// <summary><c>/api/history</c> and <c>POST /v1/feedback</c>.</summary>
    public static void MapFlareHistory(this WebApplication app)
    {
        app.MapHistoryApi();
        app.MapPost("/v1/feedback", FeedbackEndpoint.HandleAsync).ExcludeFromDescription().DisableAntiforgery().AllowAnonymous(); // API-key auth, like /v1
    }
}

/// <summary>Runs after the database is migrated (hosted services start in registration order).</summary>
internal sealed partial class HistoryStartup(HistoryStore store, HistoryImports imports, ILogger<HistoryStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var interrupted = await store.InterruptAbandonedImportsAsync(ct);
        var files = imports.DeleteLeftoverUploads();
        if (interrupted > 0 || files > 0)
        {
            LogInterrupted(interrupted, files);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} history import(s) were cut off by the last shutdown and are marked interrupted ({Files} upload file(s) removed); upload the same file again to import the rest")]
    private partial void LogInterrupted(int count, int files);
}
