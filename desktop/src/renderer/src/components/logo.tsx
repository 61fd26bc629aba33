/** The WebGuard mark: a shield with a check, the same drawing as the app icon. */
export function Logo({ size = 24 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 64 64" aria-hidden="true">
      <defs>
        <linearGradient id="wg-logo" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#4c6ef5" />
          <stop offset="1" stopColor="#12b886" />
        </linearGradient>
      </defs>
      <path
        d="M32 4 L56 13 V31 C56 46 45.5 56 32 60 C18.5 56 8 46 8 31 V13 Z"
        fill="url(#wg-logo)"
      />
      <path
        d="M21 32 L29 40 L44 24"
        fill="none"
        stroke="#fff"
        strokeWidth="6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
