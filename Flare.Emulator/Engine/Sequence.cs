using System.Threading.Channels;

namespace Flare.Emulator.Engine;

/// <summary>One request inside the batching simulation.</summary>
internal sealed class Sequence(int promptTokens, int outputTokens, ChannelWriter<int>? tokens = null, long arrivedAt = 0)
{
    /// <summary>Timestamp (of the engine's <see cref="TimeProvider"/>) at which the server received the request.</summary>
    public long ArrivedAt { get; } = arrivedAt;

    private volatile bool _cancelled;

    public int PromptTokens { get; } = promptTokens;

    /// <summary>Tokens this sequence will generate before it finishes.</summary>
    public int OutputTokens { get; } = outputTokens;

    public int Generated { get; set; }

    /// <summary>Receives the running count of generated tokens after each step; completed when the sequence ends.</summary>
    public ChannelWriter<int>? Tokens { get; } = tokens;

    public bool Cancelled => _cancelled;

    public long Reservation => (long)PromptTokens + OutputTokens;

    public bool IsFinished => Generated >= OutputTokens;

    public void Cancel() => _cancelled = true;
}
