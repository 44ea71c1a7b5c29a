import { useRef, type ReactNode } from 'react';

/**
 * Tabs as the WAI-ARIA pattern has them: one tab stop for the list, arrow keys (and Home, End)
 * move between tabs, and the panel is labelled by its tab.
 */
export function Tabs<T extends string>({
  label,
  tabs,
  current,
  onChange,
  children,
}: {
  label: string;
  tabs: ReadonlyArray<readonly [T, string]>;
  current: T;
  onChange: (tab: T) => void;
  children: ReactNode;
}) {
  const buttons = useRef<Array<HTMLButtonElement | null>>([]);
  const move = (to: number) => {
    const i = (to + tabs.length) % tabs.length;
    onChange(tabs[i]![0]);
    buttons.current[i]?.focus();
  };
  const keys: Record<string, (i: number) => number> = {
    ArrowRight: (i) => i + 1,
    ArrowLeft: (i) => i - 1,
    Home: () => 0,
    End: () => tabs.length - 1,
  };
  return (
    <>
      <div role="tablist" aria-label={label} className="tabs">
        {tabs.map(([tab, text], i) => (
          <button
            key={tab}
            ref={(el) => {
              buttons.current[i] = el;
            }}
            id={`tab-${tab}`}
            type="button"
            role="tab"
            aria-selected={current === tab}
            aria-controls={`panel-${tab}`}
            tabIndex={current === tab ? 0 : -1}
            onClick={() => onChange(tab)}
            onKeyDown={(e) => {
              const to = keys[e.key];
              if (!to) return;
              e.preventDefault();
              move(to(i));
            }}
          >
            {text}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`}>
        {children}
      </div>
    </>
  );
}
