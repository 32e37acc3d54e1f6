/** One colour per person id (cycling), the same in `--annotate` videos and on the web page. */
export const PERSON_COLOURS = ['#E6194B', '#3CB44B', '#4363D8', '#F58231', '#911EB4', '#42D4F4', '#F032E6', '#BFEF45', '#FABED4', '#469990'] as const;

/** `#RRGGBB` of a person id (ids count from 1). */
export const personColour = (person: number): string => PERSON_COLOURS[(person - 1) % PERSON_COLOURS.length]!;
