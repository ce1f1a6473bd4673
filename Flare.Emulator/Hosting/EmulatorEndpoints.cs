using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Flare.Emulator.Api;
using Flare.Emulator.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flare.Emulator.Hosting;

/// <summary>Maps the emulator's OpenAI-compatible API onto an ASP.NET Core app.</summary>
public static class EmulatorEndpoints
{
    /// <summary>Header on every emulator response: the profile that produced it (or <c>none</c>).</summary>
    public const string ProfileHeader = "x-flare-emulator";

    /// <summary>Request header that fixes the output length in tokens (for replaying datasets); capped by max_tokens.</summary>
    public const string OutputTokensHeader = "x-emulator-output-tokens";

    /// <summary>
    /// Maps <c>{prefix}/{backend}/v1/chat/completions</c>, <c>{prefix}/{backend}/v1/completions</c>,
    /// <c>{prefix}/{backend}/v1/models</c> and <c>{prefix}/{backend}/health</c> for the backends of
    /// <paramref name="fleet"/>, so one server serves many emulated deployments, each at base URL
    /// <c>http://host:port{prefix}/{backend}/v1</c>.
    /// </summary>
    /// <param name="endpoints">The app or route group.</param>
    /// <param name="fleet">The backends to serve; it can change while the app runs.</param>
    /// <param name="prefix">Path before the backend name, e.g. <c>/emulator</c>; default none.</param>
    public static RouteGroupBuilder MapEmulator(this IEndpointRouteBuilder endpoints, EmulatorFleet fleet, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(fleet);
        var group = endpoints.MapGroup(prefix.TrimEnd('/') + "/{backend}");
        group.MapPost("/v1/chat/completions", context => HandleCompletionAsync(context, fleet, chat: true));
        group.MapPost("/v1/completions", context => HandleCompletionAsync(context, fleet, chat: false));
        group.MapGet("/v1/models", context => HandleModelsAsync(context, fleet));
        group.MapGet("/health", context =>
        {
            var backend = Find(context, fleet);
            return backend is null ? NotFoundAsync(context) : Task.CompletedTask;
        });
        return group;
    }

    private static EmulatorBackend? Find(HttpContext context, EmulatorFleet fleet)
    {
        var name = context.Request.RouteValues["backend"] as string ?? "";
        var backend = fleet.Resolve(name);
        context.Response.Headers[ProfileHeader] = backend?.Profile.Name ?? "none";
        return backend;
    }

    private static Task NotFoundAsync(HttpContext context) => OpenAIResponses.WriteErrorAsync(
        context, StatusCodes.Status404NotFound,
        $"The emulated backend '{context.Request.RouteValues["backend"]}' does not exist.",
        "invalid_request_error", null, "backend_not_found");

    private static async Task HandleModelsAsync(HttpContext context, EmulatorFleet fleet)
    {
        if (Find(context, fleet) is not { } backend)
        {
            await NotFoundAsync(context);
            return;
        }

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var name in backend.ServedModelNames)
        {
            json.WriteStartObject();
            json.WriteString("id", name);
            json.WriteString("object", "model");
            json.WriteNumber("created", backend.Time.GetUtcNow().ToUnixTimeSeconds());
            json.WriteString("owned_by", "flare-emulator");
            json.WriteString("root", backend.Profile.ModelId);
            json.WriteNumber("max_model_len", backend.Profile.MaxModelLength);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static async Task HandleCompletionAsync(HttpContext context, EmulatorFleet fleet, bool chat)
    {
        var ct = context.RequestAborted;
        if (Find(context, fleet) is not { } backend)
        {
            await NotFoundAsync(context);
            return;
        }

        var arrivedAt = backend.Time.GetTimestamp();
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            await BadRequestAsync(context, $"The body is not valid JSON: {e.Message}", null);
            return;
        }

        CompletionRequest request;
        using (document)
        {
            var (parsed, error, param) = CompletionRequest.Parse(document.RootElement, chat);
            if (parsed is null)
            {
                await BadRequestAsync(context, error!, param);
                return;
            }

            request = parsed;
        }

        int? forced = null;
        if (context.Request.Headers.TryGetValue(OutputTokensHeader, out var header))
        {
            if (!int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                await BadRequestAsync(context, $"Header {OutputTokensHeader} must be a positive integer.", null);
                return;
            }

            forced = n;
        }

        var profile = backend.Profile;
        var maxTokens = request.MaxTokens ?? profile.MaxModelLength - request.PromptTokens;
        if (maxTokens < 1 || !backend.Engine.Fits(request.PromptTokens, maxTokens))
        {
            await BadRequestAsync(context,
                $"This model's maximum context length is {profile.MaxModelLength} tokens. However, you requested " +
                $"{request.PromptTokens + Math.Max(maxTokens, 1)} tokens ({request.PromptTokens} in the messages, {Math.Max(maxTokens, 1)} in the completion).",
                "max_tokens");
            return;
        }

        var options = backend.Options;
        var plan = RequestPlan.For(options.Seed, backend.NextOrdinal(), options.Faults);
        if (plan.ErrorStatus is { } status)
        {
            if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.Headers.RetryAfter = options.Faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            var (type, code) = status switch
            {
                429 => ("rate_limit_error", "rate_limit_exceeded"),
                503 => ("server_error", "service_unavailable"),
                >= 500 => ("server_error", "internal_error"),
                _ => ("invalid_request_error", "emulated_error"),
            };
            await OpenAIResponses.WriteErrorAsync(context, status, $"Emulated fault: HTTP {status} injected by the Flare LLM emulator.", type, null, code);
            return;
        }

        var outputTokens = plan.OutputTokens(profile, maxTokens, request.MinTokens, request.IgnoreEos, forced);
        var finishReason = outputTokens >= maxTokens ? "length" : "stop";
        var time = backend.Time;
        try
        {
            if (plan.SpikeMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(plan.SpikeMs / options.TimeScale), time, ct);
            }

            var tokens = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            // A spike delays the arrival itself; otherwise the request arrived when the server received it.
            var sequence = new Sequence(request.PromptTokens, outputTokens, tokens.Writer, plan.SpikeMs > 0 ? time.GetTimestamp() : arrivedAt);
            await using var cancel = ct.Register(sequence.Cancel);
            if (!backend.Engine.TrySubmit(sequence))
            {
                await OpenAIResponses.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable,
                    "The emulated backend is being removed.", "server_error", null, "service_unavailable");
                return;
            }

            var writer = new OpenAIResponses(context, request, (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N"), time.GetUtcNow().ToUnixTimeSeconds());
            var disconnectAt = plan.Disconnect ? Math.Min(options.Faults.DisconnectAfterTokens, outputTokens) : int.MaxValue;
            var stall = TimeSpan.FromMilliseconds(plan.StallMs / options.TimeScale);
            if (request.Stream)
            {
                await StreamAsync(context, writer, tokens.Reader, sequence, stall, disconnectAt, finishReason, time, ct);
            }
            else
            {
                await CompleteAsync(context, writer, tokens.Reader, sequence, stall, disconnectAt, finishReason, time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away; the registration above cancelled the sequence.
        }
        catch (ObjectDisposedException)
        {
            // The backend was stopped under a running request: break the connection like a crashed server.
            context.Abort();
        }
    }

    private static async Task StreamAsync(
        HttpContext context, OpenAIResponses writer, ChannelReader<int> tokens, Sequence sequence, TimeSpan stall,
        int disconnectAt, string finishReason, TimeProvider time, CancellationToken ct)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(ct);
        var sent = 0;
        var generated = 0;
        while (sent < disconnectAt && await tokens.WaitToReadAsync(ct))
        {
            while (tokens.TryRead(out var g))
            {
                generated = g;
            }

            if (sent == 0 && stall > TimeSpan.Zero)
            {
                await Task.Delay(stall, time, ct);
                while (tokens.TryRead(out var g))
                {
                    generated = g;
                }
            }

            for (; sent < Math.Min(generated, disconnectAt); sent++)
            {
                writer.WriteTokenChunk(sent);
            }

            await writer.FlushAsync(ct);
        }

        if (sent >= disconnectAt)
        {
            await DisconnectAsync(context, sequence);
            return;
        }

        writer.WriteStreamEnd(sent, finishReason);
        await writer.FlushAsync(ct);
    }

    private static async Task CompleteAsync(
        HttpContext context, OpenAIResponses writer, ChannelReader<int> tokens, Sequence sequence, TimeSpan stall,
        int disconnectAt, string finishReason, TimeProvider time, CancellationToken ct)
    {
        var generated = 0;
        long firstTokenAt = 0;
        while (await tokens.WaitToReadAsync(ct))
        {
            while (tokens.TryRead(out var g))
            {
                generated = g;
            }

            if (firstTokenAt == 0)
            {
                firstTokenAt = time.GetTimestamp();
            }

            if (generated >= disconnectAt)
            {
                await DisconnectAsync(context, sequence);
                return;
            }
        }

        // A held first token holds the whole response back until first token + stall.
        var held = stall - time.GetElapsedTime(firstTokenAt);
        if (held > TimeSpan.Zero)
        {
            await Task.Delay(held, time, ct);
        }

        await writer.WriteCompletionAsync(generated, finishReason, ct);
    }

    /// <summary>
    /// Breaks the connection the way a crashing server does: what was sent arrives, then the connection ends
    /// without the end of the response. The socket is shut down for sending first (FIN after the data), because
    /// an abort alone resets the connection and a reset can destroy data the client has not read yet.
    /// The ~100 ms of wall-clock waiting is not scaled by the time scale.
    /// </summary>
    private static async Task DisconnectAsync(HttpContext context, Sequence sequence)
    {
        sequence.Cancel();
        try
        {
            // A flush hands the bytes to Kestrel's transport, which writes them to the socket a little later:
            // give it that time (wall clock, not scaled) before ending the connection behind it.
            await context.Response.BodyWriter.FlushAsync(CancellationToken.None);
            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
            context.Features.Get<IConnectionSocketFeature>()?.Socket.Shutdown(SocketShutdown.Send);
            await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone already.
        }

        context.Abort();
    }

    private static Task BadRequestAsync(HttpContext context, string message, string? param) =>
        OpenAIResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, message, "invalid_request_error", param, null);
}
