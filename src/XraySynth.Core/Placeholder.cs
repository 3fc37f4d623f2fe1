namespace XraySynth;
internal static class Placeholder { }
