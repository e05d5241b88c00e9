// Processor names shared by the worklet modules and the page that creates their nodes
// (the page must not import the worklet modules themselves: they register on load).
export const CAPTURE_PROCESSOR = 'solacelive-capture';
export const PLAYBACK_PROCESSOR = 'solacelive-playback';
