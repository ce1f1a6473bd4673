using Flare.Data.Gateway;
using Flare.Routing.Routing;
using Flare.Web.History;
using Flare.Web.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Flare.Web.Gateway;

public static class GatewayHosting
{
    /// <summary>The <c>/v1</c> data plane: forwarding, routing state, keys, request log, metrics and health probes.</summary>
    public static void AddFlareGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RoutingOptions>().BindConfiguration(RoutingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CandidateEstimation>();

        // What /v1/feedback labels; the history feature may have registered it already.
        services.TryAddSingleton<RecentPrompts>(_ => new RecentPrompts());
        services.AddHttpForwarder();
        services.AddSingleton<IRoutingPolicy, LeastOutstandingPolicy>();
        services.AddSingleton<RoutingState>();
        services.AddHostedService<RoutingSnapshotRefresher>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddHostedService<GatewayStartup>();
        services.AddSingleton<UpstreamClientPool>();
        services.AddSingleton<RequestLogWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<RequestLogWriter>());
        services.AddSingleton(sp =>
        {
            var metrics = new FlareMetrics(sp.GetRequiredService<RoutingState>());
            var log = sp.GetRequiredService<RequestLogWriter>();
            metrics.Meter.CreateObservableCounter("flare_request_log_dropped", () => log.Dropped,
                description: "Request log rows lost because the database could not keep up (the writer's queue was full).");
            return metrics;
        });
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<GatewayHandler>();
        services.AddSingleton<DeploymentHealthSignal>();
        // Several hosts on PostgreSQL registered theirs already (AddFlareData).
        services.TryAddSingleton<IProbeLeadership, SingleHostProbeLeadership>();
        services.AddSingleton<HealthProber>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthProber>());
    }

    public static void MapFlareGateway(this WebApplication app)
    {
        // /v1 authenticates with its own API keys (ApiKeyAuthenticator), not as an administrator.
        var v1 = app.MapGroup("/v1").ExcludeFromDescription().DisableAntiforgery().AllowAnonymous();
        v1.MapPost("/chat/completions", (HttpContext http, GatewayHandler gateway) => gateway.HandleAsync(http, V1Endpoint.ChatCompletions));
        v1.MapPost("/completions", (HttpContext http, GatewayHandler gateway) => gateway.HandleAsync(http, V1Endpoint.Completions));
        v1.MapGet("/models", ListModelsAsync);
        v1.Map("/{**rest}", (HttpContext http) => OpenAIError.WriteAsync(http, 404,
            $"Flare has no {http.Request.Method} {http.Request.Path}. It serves POST /v1/chat/completions, POST /v1/completions and GET /v1/models.",
            OpenAIError.NotFound, null, "unknown_endpoint"));

        app.MapGet("/metrics", (PrometheusExporter exporter) =>
                Results.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"))
            .ExcludeFromDescription().AllowAnonymous().AddEndpointFilter<Security.MetricsAccessFilter>();

        // Touch the exporter so its listener sees the instruments from the first request on.
        app.Services.GetRequiredService<PrometheusExporter>();
    }

    private static async Task ListModelsAsync(HttpContext http, ApiKeyAuthenticator keys, RoutingState routing, IOptions<GatewayOptions> options)
    {
        if (keys.Authenticate(http.Request) is null)
        {
            await OpenAIError.WriteAsync(http, 401, "Missing or invalid API key.", OpenAIError.Authentication, null, "invalid_api_key");
            return;
        }

        // Registered models, then the router names (the live plan), then each policy's name (its plan) not shadowed by either.
        var snapshot = routing.Snapshot;
        var routers = options.Value.RouterNames
            .Concat(RoutingPolicies.PlanPolicies.Where(p => !snapshot.ByModel.ContainsKey(p)))
            .Distinct(StringComparer.Ordinal);
        var models = snapshot.ByModel.Keys.Order(StringComparer.Ordinal)
            .Select(name => new { id = name, @object = "model", created = 0, owned_by = "flare", deployments = snapshot.ByModel[name].Length })
            .Concat(routers.Select(name => new { id = name, @object = "model", created = 0, owned_by = "flare-router", deployments = snapshot.Deployments.Count }));
        await http.Response.WriteAsJsonAsync(new { @object = "list", data = models });
    }
}

/// <summary>Loads the API key table; creates the bootstrap key (configured, or the demo's printed one).</summary>
internal sealed partial class GatewayStartup(ApiKeyStore store, ApiKeyAuthenticator keys, IOptions<FlareOptions> flare, ILogger<GatewayStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (flare.Value.BootstrapApiKey is { Length: > 0 } configured)
        {
            if (await store.EnsureAsync("bootstrap (configuration)", configured, ct))
            {
                LogBootstrap();
            }
        }
        else if (flare.Value.Demo && !await store.AnyAsync(ct))
        {
            var created = await store.CreateAsync("demo", null, null, ct);
            // Shown once, on the console of the first start: only its hash is stored.
            Console.WriteLine();
            Console.WriteLine("  Flare created an API key for /v1 (shown only now; create more on the API keys page):");
            Console.WriteLine($"    {created.Value!.Secret}");
            Console.WriteLine();
        }

        await keys.ReloadAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the API key from Flare:BootstrapApiKey")]
    private partial void LogBootstrap();
}
