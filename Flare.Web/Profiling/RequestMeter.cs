using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flare.Data.Profiling;
using Flare.Routing.Profiles;

namespace Flare.Web.Profiling;

/// <summary>
/// Sends one streamed chat completion to a deployment's OpenAI-compatible endpoint and measures it
/// (ROUTING.md §3): TTFT to the first content token, the gaps between streamed tokens, e2e to the last byte,
/// token counts from <c>usage</c>. A failure, timeout or broken stream is a measured error, not an exception;
/// only the run's own cancellation escapes.
/// </summary>
public sealed class RequestMeter(HttpClient http, ProfileTarget target, ProfileSweepSettings settings, TimeProvider time)
{
    private readonly Uri _endpoint = new(target.BaseUrl.TrimEnd('/') + "/chat/completions");

    /// <summary>Measures one request of the cell's shape, met at <paramref name="concurrency"/>.</summary>
    public async Task<ProfileSampleRecord> MeasureAsync(ProfileCell cell, string content, double concurrency, CancellationToken ct)
    {
        var started = time.GetUtcNow().UtcDateTime;
        var t0 = time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(settings.RequestTimeoutSeconds));
        var tokenTimes = new List<double>();
        int? promptTokens = null, completionTokens = null;
        ProfileSampleRecord Error(string message) => new(cell.Index,
            new ProfileSample(promptTokens ?? cell.InputTokens, completionTokens ?? tokenTimes.Count, concurrency, null, null, null, IsError: true, cell.RequestRate),
            null, null, null, message, started);

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = Body(cell, content) };
            if (!string.IsNullOrEmpty(target.ApiKey))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.ApiKey);
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                return Error($"HTTP {(int)response.StatusCode}: {(body.Length > 300 ? body[..300] : body)}");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line.AsSpan(5).Trim();
                if (data.SequenceEqual("[DONE]"))
                {
                    break;
                }

                using var json = JsonDocument.Parse(data.ToString());
                var root = json.RootElement;
                if (root.TryGetProperty("error", out var error))
                {
                    return Error("Stream error: " + error.ToString());
                }

                if (HasContent(root))
                {
                    tokenTimes.Add(time.GetElapsedTime(t0).TotalMilliseconds);
                }

                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    promptTokens = usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out var pt) ? pt : promptTokens;
                    completionTokens = usage.TryGetProperty("completion_tokens", out var c) && c.TryGetInt32(out var cc) ? cc : completionTokens;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return Error($"Timed out after {settings.RequestTimeoutSeconds:0.#} s.");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException)
        {
            return Error($"{ex.GetType().Name}: {ex.Message}");
        }

        var e2e = time.GetElapsedTime(t0).TotalMilliseconds;
        if (tokenTimes.Count == 0)
        {
            return Error("The stream ended without a content token.");
        }

        var output = completionTokens ?? tokenTimes.Count;
        var ttft = tokenTimes[0];
        var gaps = new double[tokenTimes.Count - 1];
        for (var i = 1; i < tokenTimes.Count; i++)
        {
            gaps[i - 1] = tokenTimes[i] - tokenTimes[i - 1];
        }

        Array.Sort(gaps);
        var sample = new ProfileSample(promptTokens ?? cell.InputTokens, output, concurrency, ttft,
            ProfileSample.DeriveTpotMs(ttft, e2e, output), e2e, IsError: false, cell.RequestRate);
        return new ProfileSampleRecord(cell.Index, sample,
            gaps.Length == 0 ? null : Percentile(gaps, 0.50),
            gaps.Length == 0 ? null : Percentile(gaps, 0.95),
            gaps.Length == 0 ? null : gaps[^1], null, started);
    }

    private JsonContent Body(ProfileCell cell, string content)
    {
        var body = new Dictionary<string, object>
        {
            ["model"] = target.ServedModelName,
            ["messages"] = new[] { new { role = "user", content } },
            ["stream"] = true,
            ["stream_options"] = new { include_usage = true },
            ["max_tokens"] = cell.OutputTokens,
            ["temperature"] = 0,
        };
        if (settings.ForceOutputLength)
        {
            // vLLM's extensions: generate exactly max_tokens, whatever the model would stop at.
            body["min_tokens"] = cell.OutputTokens;
            body["ignore_eos"] = true;
        }

        return JsonContent.Create(body);
    }

    private static bool HasContent(JsonElement chunk)
    {
        if (!chunk.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object
                && delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String && c.GetString()!.Length > 0)
            {
                return true;
            }

            if (choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String && text.GetString()!.Length > 0)
            {
                return true;
            }
        }

        return false;
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
