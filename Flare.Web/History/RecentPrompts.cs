using System.Collections.Concurrent;

namespace Flare.Web.History;

/// <summary>What Flare remembers of a request it served, so that <c>/v1/feedback</c> can label it.</summary>
/// <param name="Prompt">The prompt text the estimator embeds (chat messages joined, or the completion prompt).</param>
/// <param name="Model">The registry model of the deployment that answered.</param>
/// <param name="OutputTokens">Output tokens from the response's usage, when known.</param>
public sealed record RecentPrompt(string Prompt, string Model, int? OutputTokens, double? CostUsd, DateTime ServedUtc);

/// <summary>
/// A bounded, in-memory map from request id to the prompt and model of recently served requests: the
/// request log does not keep prompt text, and feedback usually arrives within minutes. The oldest entries
/// are dropped past <see cref="Capacity"/>; feedback for a forgotten request gets a clear 404.
/// </summary>
public sealed class RecentPrompts(int capacity = 50_000)
{
    private readonly ConcurrentDictionary<string, RecentPrompt> _byRequest = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Capacity { get; } = capacity;

    public int Count => _byRequest.Count;

    public void Remember(string requestId, RecentPrompt prompt)
    {
        if (_byRequest.TryAdd(requestId, prompt))
        {
            _order.Enqueue(requestId);
            while (_byRequest.Count > Capacity && _order.TryDequeue(out var oldest))
            {
                _byRequest.TryRemove(oldest, out _);
            }
        }
    }

    public bool TryGet(string requestId, out RecentPrompt prompt) => _byRequest.TryGetValue(requestId, out prompt!);
}
