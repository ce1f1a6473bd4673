using System.Net.Http.Headers;
using System.Net.Http.Json;
using Flare.Data.Gateway;
using Flare.Web.Gateway;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Flare.Web.Hosting;

public static class DemoTrafficHosting
{
    public static void AddFlareDemoTraffic(this WebApplicationBuilder builder) =>
        builder.Services.AddHostedService<DemoTraffic>();
}

/// <summary>
/// With the demo on, a small client inside Flare sends itself requests through the real <c>/v1</c> path
/// (Poisson arrivals, a mix of prompts, lengths, models, streamed and not) so a new user sees traffic,
/// latency and cost on the dashboards at once. It uses its own API key, revoked and replaced at each start.
/// </summary>
internal sealed partial class DemoTraffic(
    IServer server,
    IHostApplicationLifetime lifetime,
    ApiKeyStore keys,
    RoutingState routing,
    IOptions<FlareOptions> options,
    IOptions<GatewayOptions> gateway,
    ILogger<DemoTraffic> log) : BackgroundService
{
    private const string KeyName = "demo traffic (internal)";
    private const int MaxInFlight = 16;

    private static readonly string[] Prompts =
    [
        "Summarise the main causes of the French Revolution in three sentences.",
        "Write a Python function that returns the n-th Fibonacci number iteratively.",
        "What is the capital of Australia?",
        "Explain the difference between TCP and UDP to a new engineer.",
        "Translate 'the weather is lovely today' into German and Spanish.",
        "Give me five name ideas for a coffee shop run by astronomers.",
        "Solve: a train leaves at 3 pm at 80 km/h; another at 4 pm at 100 km/h. When does the second catch up?",
        "Draft a polite email declining a meeting invitation.",
        "List the planets of the solar system in order from the sun.",
        "Why does ice float on water?",
    ];

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var rate = options.Value.DemoTrafficPerSecond;
        if (!options.Value.Demo || rate <= 0 || !await WaitForStartAsync(ct))
        {
            return;
        }

        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null)
        {
            return;
        }

        await keys.RevokeByNameAsync(KeyName, ct);
        var key = (await keys.CreateAsync(KeyName, null, null, ct)).Value!;
        using var http = new HttpClient { BaseAddress = new Uri(address.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "127.0.0.1")), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Secret);
        LogStarted(rate, http.BaseAddress!);

        var random = new Random(20261122);
        using var inFlight = new SemaphoreSlim(MaxInFlight);
        while (!ct.IsCancellationRequested)
        {
            // Exponential gaps: Poisson arrivals at the configured rate.
            var gap = -Math.Log(1 - random.NextDouble()) / rate;
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(gap, 60)), ct);
            if (!await inFlight.WaitAsync(0, ct))
            {
                continue; // the fleet is slower than the demo's arrivals: skip rather than pile up
            }

            var models = routing.Snapshot.ByModel.Keys.ToArray();
            var model = models.Length == 0 || random.NextDouble() < 0.3 ? gateway.Value.RouterNames[0] : models[random.Next(models.Length)];
            var stream = random.NextDouble() < 0.5;
            var request = new
            {
                model,
                stream,
                max_tokens = random.Next(16, 257),
                messages = new[] { new { role = "user", content = Prompts[random.Next(Prompts.Length)] } },
            };
            _ = SendAsync(http, request, stream, inFlight, ct);
        }
    }

    private static async Task SendAsync(HttpClient http, object body, bool stream, SemaphoreSlim inFlight, CancellationToken ct)
    {
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(body) };
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
            await using var content = await response.Content.ReadAsStreamAsync(ct);
            await content.CopyToAsync(Stream.Null, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // Demo traffic only: failures show up in Flare's own metrics and log, which is the point.
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task<bool> WaitForStartAsync(CancellationToken ct)
    {
        var started = new TaskCompletionSource();
        using var a = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var b = ct.Register(() => started.TrySetCanceled());
        try
        {
            await started.Task;
            return true;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo traffic: {Rate} requests/s through {Address}v1 (set Flare:DemoTrafficPerSecond=0 to stop)")]
    private partial void LogStarted(double rate, Uri address);
}
