namespace Flare.Emulator;

/// <summary>Standalone entry point of the emulator (placeholder until the emulator lands).</summary>
public static class EmulatorProgram
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("Flare LLM emulator: not built yet.");
        return 1;
    }
}
