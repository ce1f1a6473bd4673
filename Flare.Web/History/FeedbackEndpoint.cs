using System.Text.Json;
using Flare.Data.History;
using Flare.Web.Gateway;
using Microsoft.AspNetCore.Http.Features;

namespace Flare.Web.History;

/// <summary>
/// <c>POST /v1/feedback</c>: an application scores an answer Flare served, by the request id Flare returned
/// (<c>x-flare-request-id</c>). Body <c>{"request_id": "req_…", "score": 0.8, "output_tokens": 120}</c> (score in [0, 1];
/// output_tokens optional, default the answer's usage). The prompt and model come from <see cref="RecentPrompts"/>; the
/// labelled row is stored in the feedback dataset and added to the live estimator before the answer, so estimates
/// made after it see it. Same API keys and limits as the rest of <c>/v1</c>; errors in OpenAI's shape.
/// </summary>
public static class FeedbackEndpoint
{
    private const long MaxBodyBytes = 64 * 1024;

    public static async Task HandleAsync(
        HttpContext http, ApiKeyAuthenticator keys, RecentPrompts recent, HistoryStore store, HistoryIndexService index,
        RequestLogWriter requestLog, CancellationToken ct)
    {
        var key = keys.Authenticate(http.Request);
        if (key is null)
        {
            await OpenAIError.WriteAsync(http, 401, "Missing or invalid API key. Send 'Authorization: Bearer <key>' with a key created in Flare.", OpenAIError.Authentication, null, "invalid_api_key");
            return;
        }

        if (!key.TryAdmit(keys.Now, out var retryAfter))
        {
            http.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await OpenAIError.WriteAsync(http, 429, $"Rate limit of this API key reached; retry in {retryAfter.TotalSeconds:0.#} s.", OpenAIError.RateLimit, null, "rate_limit_exceeded");
            return;
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(http.Request.Body, default, ct);
        }
        catch (JsonException)
        {
            await Invalid(http, "The body must be a JSON object: {\"request_id\": \"req_…\", \"score\": 0.0–1.0, \"output_tokens\": n (optional)}.", null);
            return;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await OpenAIError.WriteAsync(http, 413, $"A feedback body is at most {MaxBodyBytes:N0} bytes.", OpenAIError.InvalidRequest, null, "request_too_large");
            return;
        }

        using (body)
        {
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                await Invalid(http, "The body must be a JSON object: {\"request_id\": \"req_…\", \"score\": 0.0–1.0, \"output_tokens\": n (optional)}.", null);
                return;
            }

            if (!root.TryGetProperty("request_id", out var idElement) || idElement.ValueKind != JsonValueKind.String || idElement.GetString() is not { Length: > 0 } requestId)
            {
                await Invalid(http, "'request_id' is required: the x-flare-request-id header of the answer being scored.", "request_id");
                return;
            }

            if (!root.TryGetProperty("score", out var scoreElement) || scoreElement.ValueKind != JsonValueKind.Number
                || scoreElement.GetDouble() is var score && !(score is >= 0 and <= 1))
            {
                await Invalid(http, "'score' is required: a number from 0 (worst) to 1 (best).", "score");
                return;
            }

            int? outputTokens = null;
            if (root.TryGetProperty("output_tokens", out var tokensElement) && tokensElement.ValueKind != JsonValueKind.Null)
            {
                if (tokensElement.ValueKind != JsonValueKind.Number || !tokensElement.TryGetInt32(out var tokens) || tokens < 0)
                {
                    await Invalid(http, "'output_tokens' must be a whole number ≥ 0 when given.", "output_tokens");
                    return;
                }

                outputTokens = tokens;
            }

            if (!recent.TryGet(requestId, out var served))
            {
                await OpenAIError.WriteAsync(http, 404,
                    $"Flare does not remember request '{requestId}': it was not served by this Flare, or it is older than the last {recent.Capacity:N0} requests or than Flare's last start (prompts are kept in memory only).",
                    OpenAIError.NotFound, "request_id", "unknown_request_id");
                return;
            }

            var stored = await store.AddFeedbackAsync(requestId, served.Prompt, served.Model, score, outputTokens ?? served.OutputTokens, served.CostUsd, ct);
            await index.CatchUpAsync(ct);
            await requestLog.RecordFeedbackAsync(requestId, score, ct);
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsJsonAsync(new
            {
                @object = "feedback",
                request_id = requestId,
                model = served.Model,
                score,
                output_tokens = outputTokens ?? served.OutputTokens,
                dataset_id = stored.DatasetId,
                used_by_estimator = stored.Mapped,
            }, ct);
        }
    }

    private static Task Invalid(HttpContext http, string message, string? param) =>
        OpenAIError.WriteAsync(http, 400, message, OpenAIError.InvalidRequest, param, "invalid_feedback");
}
